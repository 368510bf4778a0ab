"""JSON API used by the action server (service-token auth); see ``openapi.yaml``.

Identity-related calls always answer ``202 accepted``: the outcome goes by email, so the chat can
never be used to learn whether a client number, surname or email exists.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from bot.portal.api.auth import service_token_required
from bot.portal.api.inputs import conversation_id, json_object, text_field
from bot.portal.models import utcnow
from bot.portal.services import handoff, opening_hours, recovery, registration

bp = Blueprint("service_api", url_prefix="/api/v1")

ACCEPTED = {"status": "accepted"}


async def _accepted(request: Request, service: Callable[..., Awaitable[None]], *fields: str):
    """Run an identity service with the named text fields; answer 202 whatever it found."""
    body = json_object(request)
    values = {name: text_field(body, name) for name in fields}
    async with request.app.ctx.sessions.begin() as session:
        await service(
            session=session,
            settings=request.app.ctx.settings,
            conversation_id=conversation_id(request),
            **values,
        )
    request.app.ctx.outbox_wakeup.set()
    return json(ACCEPTED, status=202)


@bp.post("/registrations")
@service_token_required
async def create_registration(request: Request) -> HTTPResponse:
    return await _accepted(request, registration.register, "client_number", "surname", "email")


@bp.post("/activation-emails")
@service_token_required
async def resend_activation_email(request: Request) -> HTTPResponse:
    return await _accepted(request, registration.resend_activation, "email")


@bp.post("/identifier-reminders")
@service_token_required
async def remind_identifier(request: Request) -> HTTPResponse:
    return await _accepted(request, recovery.remind_identifier, "client_number", "surname")


@bp.post("/password-resets")
@service_token_required
async def request_password_reset(request: Request) -> HTTPResponse:
    return await _accepted(request, recovery.request_password_reset, "email")


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
