"""Home insurance for the action server (service token, verified conversation).

``GET /api/v1/insurance`` gives the certificate in force (for the prefill), a submission still
waiting for staff, and the insurers to offer as buttons; ``POST /api/v1/insurance-checks/date``
checks a validity date as the tenant types it; ``POST /api/v1/insurance-submissions`` records
the update (certificate PDF sent beforehand through ``POST /api/v1/uploads`` with the purpose
``insurance_certificate``) for staff to validate within ``landlord.VALIDATION_DELAY_HOURS``.
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from bot.errors import NotFound
from bot.policy import landlord
from bot.policy.french_dates import (
    format_french_date,
    parse_validity_date,
    today_in_france,
)
from bot.portal.api.auth import service_token_required, verified_grant
from bot.portal.models import InsuranceCertificate
from bot.portal.services import insurance
from bot.portal.services.insurers import INSURERS, normalise_insurer
from bot.web.inputs import int_field, json_object, text_field

bp = Blueprint("insurance_api", url_prefix="/api/v1")


def _certificate(certificate: InsuranceCertificate | None) -> dict[str, Any] | None:
    if certificate is None:
        return None
    today = today_in_france()
    return {
        "insurer": certificate.insurer,
        "policy_number": certificate.policy_number,
        "valid_until": certificate.valid_until.isoformat(),
        "valid_until_text": format_french_date(certificate.valid_until),
        "days_left": (certificate.valid_until - today).days,
        "expired": certificate.valid_until < today,
        "status": certificate.status.value,
    }


@bp.get("/insurance")
@service_token_required
async def show(request: Request) -> HTTPResponse:
    async with request.app.ctx.sessions() as session:
        grant = await verified_grant(request, session)
        current = await insurance.current_certificate(
            session=session, household_id=grant.household_id
        )
        pending = await insurance.pending_submission(
            session=session, household_id=grant.household_id
        )
    return json(
        {
            "certificate": _certificate(current),
            "pending": _certificate(pending),
            "insurers": list(INSURERS),
            "upload": {
                "purpose": insurance.UPLOAD_PURPOSE,
                "kinds": sorted(insurance.UPLOAD_KINDS),
            },
            "validation_delay_hours": landlord.VALIDATION_DELAY_HOURS,
        }
    )


@bp.post("/insurance-checks/date")
@service_token_required
async def check_date(request: Request) -> HTTPResponse:
    async with request.app.ctx.sessions() as session:
        await verified_grant(request, session)
    valid_until = parse_validity_date(
        text_field(json_object(request), "text"), today=today_in_france()
    )
    return json(
        {
            "valid_until": valid_until.isoformat(),
            "valid_until_text": format_french_date(valid_until),
        }
    )


#: Path name -> the rule that tidies what the tenant typed (the same rules as the submission).
_FIELD_RULES = {
    "insurer": normalise_insurer,
    "policy-number": insurance.normalise_policy_number,
}


@bp.post("/insurance-checks/<field:str>")
@service_token_required
async def check_field(request: Request, field: str) -> HTTPResponse:
    rule = _FIELD_RULES.get(field)
    if rule is None:
        raise NotFound(code="unknown_field")
    async with request.app.ctx.sessions() as session:
        await verified_grant(request, session)
    return json({"value": rule(text_field(json_object(request), "text"))})


@bp.post("/insurance-submissions")
@service_token_required
async def create(request: Request) -> HTTPResponse:
    async with request.app.ctx.sessions.begin() as session:
        grant = await verified_grant(request, session)
        body = json_object(request)
        certificate = await insurance.submit(
            session=session,
            settings=request.app.ctx.settings,
            household_id=grant.household_id,
            insurer=text_field(body, "insurer"),
            policy_number=text_field(body, "policy_number"),
            valid_until=text_field(body, "valid_until"),
            upload_slot_id=int_field(body, "upload_slot_id", missing="certificate"),
        )
    request.app.ctx.outbox_wakeup.set()
    return json(
        {
            "id": certificate.id,
            "status": certificate.status.value,
            "insurer": certificate.insurer,
            "policy_number": certificate.policy_number,
            "valid_until": certificate.valid_until.isoformat(),
            "valid_until_text": format_french_date(certificate.valid_until),
            "validation_delay_hours": landlord.VALIDATION_DELAY_HOURS,
        },
        status=201,
    )
