"""The portal's Sanic application factory."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging

from sanic import Request, Sanic
from sanic.response import HTTPResponse, json

from bot.mail.smtp import SmtpSender
from bot.portal.api import dev, pages, service_api, verification_api
from bot.portal.api.errors import register_error_handlers
from bot.portal.db import create_database, create_engine, session_factory
from bot.portal.services.outbox import SendFunction, deliver_due
from bot.settings import Settings

log = logging.getLogger(__name__)
_app_numbers = itertools.count(1)


async def _outbox_worker(app: Sanic) -> None:
    """Deliver queued emails: right after a request queues one, else every few seconds."""
    settings: Settings = app.ctx.settings
    while not app.ctx.outbox_stopping:
        try:
            await deliver_due(
                sessions=app.ctx.sessions,
                send=app.ctx.send_email,
                max_attempts=settings.outbox_max_attempts,
            )
        except Exception:  # noqa: BLE001 - the worker must survive a database hiccup
            log.exception("outbox delivery round failed")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(app.ctx.outbox_wakeup.wait(), settings.outbox_poll_seconds)
        app.ctx.outbox_wakeup.clear()


def create_app(settings: Settings, *, send_email: SendFunction | None = None) -> Sanic:
    """Build the portal; the database and the outbox worker start with the server."""
    app = Sanic(f"portal_{next(_app_numbers)}")
    app.config.REQUEST_MAX_SIZE = 1_000_000
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.ctx.settings = settings
    app.ctx.send_email = send_email or SmtpSender(settings)

    app.blueprint(service_api.bp)
    app.blueprint(verification_api.bp)
    app.blueprint(pages.bp)
    if settings.is_development:
        app.blueprint(dev.bp)
    register_error_handlers(app)

    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        return json({"status": "ok"})

    @app.before_server_start
    async def open_database(app: Sanic, _loop: object) -> None:
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
        # Cancelling alone is not enough: SQLAlchemy 1.4 may swallow the CancelledError while a
        # connection goes back to its pool, and the worker would then run (and block) forever.
        app.ctx.outbox_stopping = True
        app.ctx.outbox_wakeup.set()
        app.ctx.outbox_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await app.ctx.outbox_task

    @app.after_server_stop
    async def close_database(app: Sanic, _loop: object) -> None:
        await app.ctx.engine.dispose()

    return app
