"""The action server's ``/ready`` and ``/metrics``.

``/ready`` answers 200 only when the portal answers its ``/health``: nearly every action calls
the portal, and an action server that cannot reach it would answer tenants with "try again
later" only. It calls the portal where the actions do (``PORTAL_URL``, set by the supervisor;
``actions/portal_client.py``). ``/health`` stays the liveness URL.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from sanic import Request, Sanic
from sanic.response import HTTPResponse

from bot.observability.metrics import metrics_response
from bot.observability.readiness import not_ready, ready, url_answers
from bot.runner import action_metrics
from bot.settings import Settings

#: The variable the actions read the portal's address from (``actions/portal_client.py``).
PORTAL_URL_VARIABLE = "PORTAL_URL"
#: The paths :func:`add_probes` serves; they check their own access, not Rasa's secret.
PROBE_PATHS = frozenset({"/ready", "/metrics"})


def portal_url(settings: Settings, environ: Mapping[str, str] = os.environ) -> str:
    """Where the actions reach the portal."""
    return (environ.get(PORTAL_URL_VARIABLE) or settings.portal_url).rstrip("/")


def add_probes(app: Sanic, settings: Settings, portal: str) -> None:
    """Serve ``/ready`` (the portal at ``portal`` answers) and ``/metrics`` on ``app``."""
    action_metrics.install()

    @app.get("/ready")
    async def readiness(request: Request) -> HTTPResponse:
        if not await url_answers(f"{portal}/health"):
            return not_ready("portal")
        return ready()

    @app.get("/metrics")
    async def prometheus_metrics(request: Request) -> HTTPResponse:
        return metrics_response(request, settings, action_metrics.REGISTRY)
