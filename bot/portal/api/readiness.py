"""The portal's ``GET /ready``: 200 when its database answers ``SELECT 1``, else 503.

``/health`` stays the liveness URL (the process runs); ``/ready`` is for a load balancer,
which should send no tenant to a portal whose database is gone. The answer names the reason
word only (``database``); the error itself goes to the log.
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from bot.observability.readiness import async_database_answers, not_ready, ready

bp = Blueprint("portal_readiness")


@bp.get("/ready")
async def readiness(request: Request) -> HTTPResponse:
    engine = getattr(request.app.ctx, "engine", None)
    if engine is None or not await async_database_answers(engine):
        return not_ready("database")
    return ready()
