"""The web process: the portal (system of record, tenant pages, service API) and the staff
console on one Sanic application, over the shared web edge (``bot/web``).

This package is the only place that knows both: the portal never imports the console, and
the console reaches the portal through its services and models (``.importlinter``).
"""

from __future__ import annotations

import itertools

from sanic import Request, Sanic
from sanic.response import HTTPResponse, json

from bot.mail.smtp import SmtpSender
from bot.observability.json_logs import install_json_logs
from bot.portal.api.install import install_portal
from bot.portal.api.metrics import install_metrics
from bot.portal.services.outbox import SendFunction
from bot.settings import Settings
from bot.staff.web import console
from bot.web.errors import register_error_handlers

_app_numbers = itertools.count(1)


def _json_logs(app: Sanic, _loop: object) -> None:
    """JSON log lines in production, once ``app.run`` has set up Sanic's loggers."""
    install_json_logs(app.ctx.settings.env)


def create_app(settings: Settings, *, send_email: SendFunction | None = None) -> Sanic:
    """Build the web process; its database and outbox worker start with the server.

    ``/health`` says the process runs, ``/ready`` that its database answers, ``/metrics`` what
    it served.
    """
    app = Sanic(f"portal_{next(_app_numbers)}")
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.ctx.settings = settings
    app.ctx.send_email = send_email or SmtpSender(settings)
    install_metrics(app)
    if settings.env == "production":
        # One JSON object a line (bot.observability.json_logs), set up when ``app.run`` starts the
        # server: Sanic's loggers exist then, and an app served in-process (tests) leaves the
        # logging of its host process alone.
        app.register_listener(_json_logs, "main_process_start")
    install_portal(app, settings)
    app.blueprint(console)
    register_error_handlers(app)

    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        return json({"status": "ok"})

    return app
