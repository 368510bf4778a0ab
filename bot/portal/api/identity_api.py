"""Identity calls of the action server (service-token auth; ``openapi.yaml``): registration,
activation email, identifier reminder, password reset.

They always answer ``202 accepted``: the outcome goes by email, so the chat can
never be used to learn whether a client number, surname or email exists.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from bot.portal.api.auth import service_token_required
from bot.portal.services import recovery, registration
from bot.web.inputs import conversation_id, json_object, text_field

bp = Blueprint("identity_api", url_prefix="/api/v1")

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
