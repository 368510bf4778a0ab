"""Account changes asked for by a verified conversation (service token); see ``openapi.yaml``.

- ``POST /api/v1/identifier-changes`` ``{new_email}``: a confirmation link to the new address.
- ``POST /api/v1/password-changes``: the new-password link to the account's address.
- ``POST /api/v1/unsubscriptions``: close the account and end the conversation's verification.

Rules live in ``services/account_changes.py``; the routes read the grant and answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from bot.portal.api.auth import service_token_required, verified_grant
from bot.portal.services import account_changes
from bot.web.inputs import conversation_id, json_object, text_field

bp = Blueprint("account_changes_api", url_prefix="/api/v1")

T = TypeVar("T")


def _optional_body(request: Request) -> None:
    """These routes need no field: an empty body is fine, anything else must be a JSON object."""
    if request.body:
        json_object(request)


async def _change_verified_account(
    request: Request, change: Callable[..., Awaitable[T]], **values: object
) -> T:
    """Run ``change`` (an ``account_changes`` service) on the conversation's verified account,
    then wake the outbox for the email it queued."""
    async with request.app.ctx.sessions.begin() as session:
        grant = await verified_grant(request, session)
        result = await change(
            session=session,
            settings=request.app.ctx.settings,
            account_id=grant.account_id,
            conversation_id=conversation_id(request),
            **values,
        )
    request.app.ctx.outbox_wakeup.set()
    return result


@bp.post("/identifier-changes")
@service_token_required
async def change_identifier(request: Request) -> HTTPResponse:
    new_email = text_field(json_object(request), "new_email")
    masked = await _change_verified_account(
        request, account_changes.request_identifier_change, new_email=new_email
    )
    return json({"sent_to_masked": masked}, status=202)


@bp.post("/password-changes")
@service_token_required
async def change_password(request: Request) -> HTTPResponse:
    _optional_body(request)
    masked = await _change_verified_account(request, account_changes.request_password_change)
    return json({"sent_to_masked": masked}, status=202)


@bp.post("/unsubscriptions")
@service_token_required
async def unsubscribe(request: Request) -> HTTPResponse:
    _optional_body(request)
    await _change_verified_account(request, account_changes.unsubscribe_conversation)
    return json({"status": "unsubscribed"})
