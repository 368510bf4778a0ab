"""The Rasa server's ``/ready`` and ``/metrics``, added to the app Rasa builds, plus JSON logs.

Rasa's ``/`` stays the liveness URL and its REST webhook is untouched. ``/ready`` answers 200
only when the model is loaded (``agent.is_ready()``) and the tracker store's database answers
``SELECT 1``: Rasa's fail-safe tracker store would otherwise answer tenants from memory and
forget their conversations. A refusal names ``model`` or ``tracker_store``, nothing more.

How: ``rasa.core.run.serve_application`` builds the Sanic app with the module's
``configure_app``; :data:`REPLACEMENTS` (installed by ``bot.runner.rasa_main`` before Rasa's
``main``) wraps it, so the routes are added to that app, with or without ``--enable-api``,
and no file of Rasa's is edited. The same moment is the first where Rasa's and Sanic's log
handlers exist: the JSON formatter is given to them there (``bot.observability.json_logs``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import rasa.core.run
from sanic import Request, Sanic
from sanic.response import HTTPResponse

from bot.observability.json_logs import install_json_logs
from bot.observability.metrics import metrics_response
from bot.observability.readiness import CHECK_TIMEOUT, not_ready, ready, sync_database_answers
from bot.runner import rasa_metrics
from bot.runner.replacements import Replacement
from bot.settings import Settings

_rasa_configure_app = rasa.core.run.configure_app


def configure_app_with_probes(
    input_channels: list[Any] | None = None, *args: Any, **kwargs: Any
) -> Sanic:
    """Rasa's ``configure_app``, then ``/ready``, ``/metrics`` and the JSON logs."""
    app = _rasa_configure_app(input_channels, *args, **kwargs)
    settings = Settings.from_env()
    rasa_metrics.know_channels(channel.name() for channel in input_channels or ())
    add_probes(app, settings)
    install_json_logs(settings.env)
    return app


def add_probes(app: Sanic, settings: Settings) -> None:
    """Serve ``/ready`` and ``/metrics`` on Rasa's ``app``."""

    @app.get("/ready")
    async def readiness(request: Request) -> HTTPResponse:
        agent = getattr(request.app.ctx, "agent", None)
        if agent is None or not agent.is_ready():
            return not_ready("model")
        if not await tracker_store_answers(agent.tracker_store):
            return not_ready("tracker_store")
        return ready()

    @app.get("/metrics")
    async def prometheus_metrics(request: Request) -> HTTPResponse:
        return metrics_response(request, settings, rasa_metrics.REGISTRY)


def innermost_store(store: Any) -> Any:
    """The store Rasa's wrappers (fail-safe, awaitable) hold."""
    while hasattr(store, "_tracker_store"):
        store = store._tracker_store
    return store


async def tracker_store_answers(store: Any) -> bool:
    """True when an SQL tracker store's database answers (a store without one: True)."""
    engine = getattr(innermost_store(store), "engine", None)
    if engine is None:
        return True
    try:
        return await asyncio.wait_for(
            asyncio.to_thread(sync_database_answers, engine), CHECK_TIMEOUT
        )
    except asyncio.TimeoutError:
        return False


#: Rasa's app factory, wrapped. A module's function, not a class's method: the table's
#: ``setattr`` works the same on a module.
REPLACEMENTS: list[Replacement] = [
    (rasa.core.run, "configure_app", configure_app_with_probes),  # type: ignore[list-item]
]
