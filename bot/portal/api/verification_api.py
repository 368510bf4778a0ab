"""Verification of a conversation and what a verified conversation may read (service token).

Every route takes the conversation id from ``X-Conversation-Id``; account data is served only
when the portal holds a live grant for that conversation.
"""

from __future__ import annotations

from decimal import Decimal

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty, json

from bot.errors import InvalidInput, RateLimited, TokenInvalid, message_text
from bot.portal.api.auth import service_token_required, verified_grant
from bot.portal.models import Account, Household
from bot.portal.services import balance, tenant_login, verification
from bot.web.inputs import conversation_id, json_object, text_field

bp = Blueprint("verification_api", url_prefix="/api/v1")


def _money(amount: Decimal) -> str:
    return f"{amount:.2f}"


@bp.post("/verifications")
@service_token_required
async def start(request: Request) -> HTTPResponse:
    body = json_object(request)
    email = text_field(body, "email", required=False)
    async with request.app.ctx.sessions.begin() as session:
        await verification.start_verification(
            session=session,
            settings=request.app.ctx.settings,
            conversation_id=conversation_id(request),
            email=email,
            client_number="" if email else text_field(body, "client_number"),
            surname="" if email else text_field(body, "surname"),
        )
    request.app.ctx.outbox_wakeup.set()
    return json({"status": "accepted"}, status=202)


@bp.post("/verifications/code")
@service_token_required
async def confirm(request: Request) -> HTTPResponse:
    code = text_field(json_object(request), "code")
    async with request.app.ctx.sessions.begin() as session:
        check = await verification.confirm_code(
            session=session,
            settings=request.app.ctx.settings,
            conversation_id=conversation_id(request),
            code=code,
        )
    # Raised only now, after the attempt was committed.
    if check.problem == "wrong_code":
        return json(
            {
                "error": "wrong_code",
                "message": message_text("wrong_code"),
                "attempts_left": check.attempts_left,
            },
            status=400,
        )
    if check.problem == "too_many_attempts":
        raise RateLimited(code="too_many_attempts")
    if check.problem:  # code_expired, no_challenge
        raise TokenInvalid(code=check.problem)
    return json({"verified": True, "expires_at": check.grant.expires_at.isoformat()})


@bp.post("/verifications/session-token")
@service_token_required
async def from_session_token(request: Request) -> HTTPResponse:
    token = text_field(json_object(request), "token")
    async with request.app.ctx.sessions.begin() as session:
        grant = await tenant_login.redeem_widget_token(
            session=session,
            settings=request.app.ctx.settings,
            conversation_id=conversation_id(request),
            token=token,
        )
    return json({"verified": True, "expires_at": grant.expires_at.isoformat()})


@bp.delete("/verifications")
@service_token_required
async def end(request: Request) -> HTTPResponse:
    async with request.app.ctx.sessions.begin() as session:
        await verification.end_verification(
            session=session, conversation_id=conversation_id(request)
        )
    return empty()


@bp.get("/me")
@service_token_required
async def me(request: Request) -> HTTPResponse:
    """The verified household: identifier, leases with rent and balance (euros, 2 decimals)."""
    async with request.app.ctx.sessions() as session:
        grant = await verified_grant(request, session)
        account = await session.get(Account, grant.account_id)
        household = await session.get(Household, grant.household_id)
        if account is None or household is None:
            raise InvalidInput(variant="account")
        leases = await balance.leases_of(session=session, household_id=household.id)
        return json(
            {
                "email": account.email,
                "client_number": household.client_number,
                "surname": household.signatory_surname,
                "verified_until": grant.expires_at.isoformat(),
                "total_due": _money(balance.total_due(leases)),
                "leases": [
                    {
                        "reference": lease.reference,
                        "label": lease.label,
                        "monthly_rent": _money(lease.monthly_rent),
                        "balance_due": _money(lease.balance_due),
                        "direct_debit_day": lease.direct_debit_day,
                    }
                    for lease in leases
                ],
            }
        )
