"""The portal on a Sanic application: its routes, its body limit, its database and its outbox
worker. ``bot.app.create_app`` composes it with the staff console into the one web process."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sanic import Request, Sanic
from sanic.exceptions import PayloadTooLarge

from bot.portal.api import (
    account_changes_api,
    account_pages,
    dev,
    direct_debit_api,
    handoff_api,
    identity_api,
    insurance_api,
    pages,
    payment_api,
    sandbox,
    tenant_pages,
    upload_pages,
    uploads_api,
    verification_api,
    widget_assets,
)
from bot.portal.api.readiness import bp as readiness_bp
from bot.portal.db import create_database, create_engine, session_factory
from bot.portal.models.encrypted import use_data_key
from bot.portal.services.outbox import deliver_round, policy_from_settings
from bot.portal.services.outbox_claims import worker_name
from bot.settings import Settings

log = logging.getLogger(__name__)

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


def install_portal(app: Sanic, settings: Settings) -> None:
    """Add the portal to ``app``; the database and the outbox worker start with the server.

    ``app.ctx.send_email`` must be set (``bot.app.create_app`` does it). ``/ready`` says the
    database answers (``readiness``).
    """
    # Sanic's limit must let an upload of the maximum size through; ``limit_bodies`` keeps
    # every other route at MAX_BODY.
    app.config.REQUEST_MAX_SIZE = max(MAX_BODY, settings.upload_max_bytes + MULTIPART_OVERHEAD)
    app.blueprint(
        [
            readiness_bp,
            identity_api.bp,
            handoff_api.bp,
            verification_api.bp,
            pages.bp,
            upload_pages.bp,
            tenant_pages.bp,
            uploads_api.bp,
            direct_debit_api.bp,
            insurance_api.bp,
            payment_api.bp,
            account_changes_api.bp,
            account_pages.bp,
            widget_assets.bp,
        ]
    )
    if settings.is_development:
        app.blueprint([dev.bp, sandbox.bp])

    @app.on_request
    async def limit_bodies(request: Request) -> None:
        if len(request.body or b"") > MAX_BODY and not request.path.startswith("/depot/"):
            raise PayloadTooLarge("Request body exceeds the size limit")

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
