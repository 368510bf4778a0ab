"""The portal's Sanic application factory."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging

from sanic import Request, Sanic
from sanic.exceptions import PayloadTooLarge
from sanic.response import HTTPResponse, json

from bot.mail.smtp import SmtpSender
from bot.observability.json_logs import install_json_logs
from bot.portal.api import (
    account_changes_api,
    account_pages,
    dev,
    direct_debit_api,
    insurance_api,
    pages,
    payment_api,
    sandbox,
    service_api,
    tenant_pages,
    upload_pages,
    uploads_api,
    verification_api,
    widget_assets,
)
from bot.portal.api.errors import register_error_handlers
from bot.portal.api.metrics import install_metrics
from bot.portal.api.readiness import bp as readiness_bp
from bot.portal.db import create_database, create_engine, session_factory
from bot.portal.models.encrypted import use_data_key
from bot.portal.services.outbox import SendFunction, deliver_round, policy_from_settings
from bot.portal.services.outbox_claims import worker_name
from bot.settings import Settings
from bot.staff.web import console as staff_console

log = logging.getLogger(__name__)
_app_numbers = itertools.count(1)

#: Bodies larger than this are refused everywhere but on the upload pages (``/depot/``).
MAX_BODY = 1_000_000
#: Room for the multipart envelope around a file of exactly ``upload_max_bytes``.
MULTIPART_OVERHEAD = 64 * 1024
#: Seconds a stopping server waits for the outbox worker to finish its delivery round.
OUTBOX_STOP_TIMEOUT = 30


async def _outbox_worker(app: Sanic) -> None:
    """Deliver queued emails: right after a request queues one, else every few seconds; at once
    again while rounds come back full (a burst). Other portal instances may run the same loop
    on the same database: each email is claimed by one of them (``services/outbox.py``)."""
    settings: Settings = app.ctx.settings
    policy = policy_from_settings(settings)
    worker = worker_name()
    while not app.ctx.outbox_stopping:
        full = False
        try:
            result = await deliver_round(
                sessions=app.ctx.sessions, send=app.ctx.send_email, policy=policy, worker=worker
            )
            full = result.claimed >= policy.batch
        except Exception:  # noqa: BLE001 - the worker must survive a database hiccup
            log.exception("outbox delivery round failed")
        if full:
            continue
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(app.ctx.outbox_wakeup.wait(), settings.outbox_poll_seconds)
        app.ctx.outbox_wakeup.clear()


def _json_logs(app: Sanic, _loop: object) -> None:
    """JSON log lines in production, once ``app.run`` has set up Sanic's loggers."""
    install_json_logs(app.ctx.settings.env)


def create_app(settings: Settings, *, send_email: SendFunction | None = None) -> Sanic:
    """Build the portal; the database and the outbox worker start with the server.

    ``/health`` says the process runs, ``/ready`` that its database answers (``readiness``),
    ``/metrics`` what it served (``metrics``).
    """
    app = Sanic(f"portal_{next(_app_numbers)}")
    # Sanic's limit must let an upload of the maximum size through; ``limit_bodies`` keeps
    # every other route at MAX_BODY.
    app.config.REQUEST_MAX_SIZE = max(MAX_BODY, settings.upload_max_bytes + MULTIPART_OVERHEAD)
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.ctx.settings = settings
    app.ctx.send_email = send_email or SmtpSender(settings)
    install_metrics(app)
    if settings.env == "production":
        # One JSON object a line (bot.observability.json_logs), set up when ``app.run`` starts the
        # server: Sanic's loggers exist then, and an app served in-process (tests) leaves the
        # logging of its host process alone.
        app.register_listener(_json_logs, "main_process_start")

    app.blueprint(readiness_bp)
    app.blueprint(service_api.bp)
    app.blueprint(verification_api.bp)
    app.blueprint(pages.bp)
    app.blueprint(upload_pages.bp)
    app.blueprint(tenant_pages.bp)
    app.blueprint(uploads_api.bp)
    app.blueprint(direct_debit_api.bp)
    app.blueprint(insurance_api.bp)
    app.blueprint(payment_api.bp)
    app.blueprint(account_changes_api.bp)
    app.blueprint(account_pages.bp)
    app.blueprint(widget_assets.bp)
    app.blueprint(staff_console)
    if settings.is_development:
        app.blueprint(dev.bp)
        app.blueprint(sandbox.bp)
    register_error_handlers(app)

    @app.on_request
    async def limit_bodies(request: Request) -> None:
        if len(request.body or b"") > MAX_BODY and not request.path.startswith("/depot/"):
            raise PayloadTooLarge("Request body exceeds the size limit")

    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        return json({"status": "ok"})

    @app.before_server_start
    async def open_database(app: Sanic, _loop: object) -> None:
        # IBANs, RIB files and queued emails are encrypted with this portal's data key.
        use_data_key(settings.data_encryption_key)
        app.ctx.engine = create_engine(settings.resolved_database_url)
        await create_database(app.ctx.engine)
        app.ctx.sessions = session_factory(app.ctx.engine)
        app.ctx.outbox_wakeup = asyncio.Event()

    @app.after_server_start
    async def start_outbox(app: Sanic, _loop: object) -> None:
        app.ctx.outbox_stopping = False
        app.ctx.outbox_task = asyncio.get_running_loop().create_task(_outbox_worker(app))

    @app.before_server_stop
    async def stop_outbox(app: Sanic, _loop: object) -> None:
        # Let the current round finish rather than cancel it: a cancelled round can leave an
        # email sent but not marked as sent, or a connection half closed, and SQLAlchemy 1.4 may
        # swallow the CancelledError (the worker would then never stop). Cancel only if stuck.
        app.ctx.outbox_stopping = True
        app.ctx.outbox_wakeup.set()
        with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError):
            await asyncio.wait_for(app.ctx.outbox_task, OUTBOX_STOP_TIMEOUT)

    @app.after_server_stop
    async def close_database(app: Sanic, _loop: object) -> None:
        await app.ctx.engine.dispose()

    return app
