"""The action server's request for a person (service-token auth; ``openapi.yaml``): the
handoff is recorded for staff, and the answer says whether staff are there and, if not,
when they will be."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from bot.policy import opening_hours
from bot.portal.api.auth import service_token_required
from bot.portal.models import utcnow
from bot.portal.services import handoff
from bot.web.inputs import json_object, text_field

bp = Blueprint("handoff_api", url_prefix="/api/v1")


@bp.post("/handoffs")
@service_token_required
async def create_handoff(request: Request) -> HTTPResponse:
    body = json_object(request)
    async with request.app.ctx.sessions.begin() as session:
        created = await handoff.record_handoff(
            session=session,
            conversation_id=text_field(body, "conversation_id"),
            channel=text_field(body, "channel", required=False) or "unknown",
            reason=text_field(body, "reason"),
            topic=text_field(body, "topic", required=False) or None,
        )
    # Outside opening hours the bot tells the tenant when a person will answer.
    staff = opening_hours.availability(request.app.ctx.settings.staff_opening_hours, now=utcnow())
    answer: dict[str, object] = {"id": created.id, "status": "recorded", "open_now": staff.open_now}
    if staff.next_opening is not None:
        answer["next_opening"] = staff.next_opening.isoformat()
        answer["next_opening_text"] = staff.next_opening_text
    return json(answer, status=201)
