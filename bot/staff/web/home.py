"""The console's home page, the overview ("Vue d'ensemble"): what a team lead looks at each
morning, for the last 7, 30 or 90 days (``?jours=``, 30 by default; anything else shows 30).

Conversations per day and channel, top topics, fallback and handoff rates against the period
before, flows started and completed, the validation queue's age against the promised delay. The
figures come from ``bot.staff.overview``; the index is brought up to date first, as the
conversation list does, and an unreachable tracker store only means older figures.
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from bot.policy.french_dates import today_in_france
from bot.portal.models import utcnow
from bot.staff.overview import metrics
from bot.staff.overview.charts import overview_charts
from bot.staff.web.auth import HOME, staff_page, staff_required
from bot.staff.web.index_refresh import refresh_before_reading
from bot.staff.web.validations import time_left

bp = Blueprint("staff_home")


@bp.get(HOME, strict_slashes=False)
@staff_required()
async def home(request: Request) -> HTTPResponse:
    refresh, tracker_ok = await refresh_before_reading(request)
    period = metrics.Period(metrics.parse_days(request.args.get("jours")), today_in_france())
    async with request.app.ctx.sessions() as session:
        overview = await metrics.overview(session=session, period=period, now=utcnow())
    return staff_page(
        request,
        "staff/home.html",
        section="overview",
        overview=overview,
        charts=overview_charts(overview),
        periods=metrics.PERIODS,
        tracker_ok=tracker_ok,
        behind=refresh.behind if refresh else 0,
        duration=time_left,
    )
