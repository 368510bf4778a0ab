"""Direct debit for the action server (service token, verified conversation).

``GET /api/v1/direct-debit/profile`` prefills the contact details; ``POST /api/v1/iban-checks``
validates an IBAN and proposes the bank; ``PUT /api/v1/direct-debit/iban`` keeps the IBAN
typed in the chat for the conversation (the chat itself never keeps it);
``DELETE /api/v1/direct-debit/iban`` forgets it, and the RIB sent for the form, when the tenant
gives the request up; ``POST /api/v1/direct-debits`` records the request, with that IBAN unless
one is given, and emails the SEPA mandate. IBANs never appear in logs; answers show them only
masked, except the check, which echoes what the tenant has just typed, formatted.
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty, json

from bot.errors import InvalidInput
from bot.policy.landlord import DEBIT_DAYS
from bot.portal.api.auth import service_token_required, verified_grant
from bot.portal.services import direct_debit
from bot.portal.services.iban import check_iban, mask_iban
from bot.web.inputs import conversation_id, int_field, json_object, text_field

bp = Blueprint("direct_debit_api", url_prefix="/api/v1")


def _references(body: dict[str, Any]) -> list[str] | None:
    value = body.get("leases")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidInput(code="wrong_type", variant="references", field="leases")
    return value


@bp.get("/direct-debit/profile")
@service_token_required
async def profile(request: Request) -> HTTPResponse:
    async with request.app.ctx.sessions() as session:
        grant = await verified_grant(request, session)
        found = await direct_debit.profile_for_debit(
            session=session, household_id=grant.household_id, account_id=grant.account_id
        )
    return json(
        {
            "holder_name": found.holder_name,
            "address": found.address,
            "email": found.email,
            "debit_day": found.debit_day,
            "debit_days": list(DEBIT_DAYS),
            "leases": [{"reference": ref, "label": label} for ref, label in found.leases],
            "pending_mandate_reference": found.pending_reference,
        }
    )


@bp.post("/iban-checks")
@service_token_required
async def iban_check(request: Request) -> HTTPResponse:
    async with request.app.ctx.sessions() as session:
        await verified_grant(request, session)
    checked = check_iban(text_field(json_object(request), "iban"))
    return json(
        {
            "valid": True,
            "iban_formatted": checked.formatted,
            "country_code": checked.country_code,
            "bank_name": checked.bank_name,
            "bic": checked.bic,
        }
    )


@bp.put("/direct-debit/iban")
@service_token_required
async def remember_iban(request: Request) -> HTTPResponse:
    """The IBAN typed in the chat, kept for this conversation's request (never echoed whole)."""
    async with request.app.ctx.sessions.begin() as session:
        grant = await verified_grant(request, session)
        checked = await direct_debit.remember_iban(
            session=session,
            conversation_id=grant.conversation_id,
            household_id=grant.household_id,
            iban=text_field(json_object(request), "iban"),
            expires_at=grant.expires_at,
        )
    return json(
        {
            "iban_masked": mask_iban(checked.iban),
            "country_code": checked.country_code,
            "bank_name": checked.bank_name,
            "bic": checked.bic,
        }
    )


@bp.delete("/direct-debit/iban")
@service_token_required
async def forget_iban(request: Request) -> HTTPResponse:
    """The form was given up: the IBAN kept for the conversation and the RIB sent through
    ``?rib_slot_id=`` (if no request uses it) are deleted. No grant is needed: a conversation
    whose verification expired may still take back what it gave."""
    slot = request.args.get("rib_slot_id")
    rib_slot_id = None if slot is None else int_field({"rib_slot_id": slot}, "rib_slot_id")
    async with request.app.ctx.sessions.begin() as session:
        await direct_debit.discard_draft(
            session=session, conversation_id=conversation_id(request), rib_slot_id=rib_slot_id
        )
    return empty()


@bp.post("/direct-debits")
@service_token_required
async def create(request: Request) -> HTTPResponse:
    async with request.app.ctx.sessions.begin() as session:
        grant = await verified_grant(request, session)
        body = json_object(request)
        iban = text_field(body, "iban", required=False) or await direct_debit.drafted_iban(
            session=session, conversation_id=grant.conversation_id, household_id=grant.household_id
        )
        created = await direct_debit.create_request(
            session=session,
            settings=request.app.ctx.settings,
            household_id=grant.household_id,
            account_id=grant.account_id,
            iban=iban,
            bank_name=text_field(body, "bank_name", required=False),
            debit_day=int_field(body, "debit_day"),
            holder_name=text_field(body, "holder_name"),
            address=text_field(body, "address"),
            rib_slot_id=int_field(body, "rib_slot_id"),
            lease_references=_references(body),
        )
        await direct_debit.forget_draft(session=session, conversation_id=grant.conversation_id)
    request.app.ctx.outbox_wakeup.set()
    return json(
        {
            "mandate_reference": created.mandate_reference,
            "status": created.status.value,
            "debit_day": created.debit_day,
            "iban_masked": mask_iban(created.iban),
            "bank_name": created.bank_name,
            "email": created.email,
        },
        status=201,
    )
