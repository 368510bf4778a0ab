"""Upload links for the action server (service token, verified conversation).

``POST /api/v1/uploads {purpose, kinds}`` creates a link for the verified household;
``GET /api/v1/uploads/<slot_id>`` says whether the tenant has sent the file yet.
"""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse, json
from sqlalchemy import select

from bot.errors import InvalidInput
from bot.portal.api.auth import service_token_required, verified_grant
from bot.portal.models import StoredUpload
from bot.portal.services import uploads
from bot.web.inputs import IdBlueprint, json_object, text_field

bp = IdBlueprint("uploads_api", url_prefix="/api/v1")


def _kinds(body: dict[str, object]) -> frozenset[str]:
    kinds = body.get("kinds")
    if not isinstance(kinds, list) or not all(isinstance(kind, str) for kind in kinds):
        raise InvalidInput(code="wrong_type", variant="texts", field="kinds")
    return frozenset(kinds)


@bp.post("/uploads")
@service_token_required
async def create_slot(request: Request) -> HTTPResponse:
    async with request.app.ctx.sessions.begin() as session:
        grant = await verified_grant(request, session)
        body = json_object(request)
        slot, url = await uploads.create_upload_slot(
            session=session,
            settings=request.app.ctx.settings,
            household_id=grant.household_id,
            purpose=text_field(body, "purpose"),
            kinds=_kinds(body),
        )
    return json(
        {"slot_id": slot.id, "upload_url": url, "expires_at": slot.expires_at.isoformat()},
        status=201,
    )


@bp.get("/uploads/<slot_id:id>")
@service_token_required
async def slot_state(request: Request, slot_id: int) -> HTTPResponse:
    async with request.app.ctx.sessions() as session:
        grant = await verified_grant(request, session)
        slot = await uploads.slot_of_household(
            session=session, slot_id=slot_id, household_id=grant.household_id
        )
        status = await uploads.slot_status(session=session, slot_id=slot.id)
        received = (
            await session.execute(
                select(StoredUpload.filename, StoredUpload.kind).where(
                    StoredUpload.slot_id == slot.id
                )
            )
        ).first()
    return json(
        {
            "status": status,
            "filename": received.filename if received else None,
            "kind": received.kind if received else None,
            "purpose": slot.purpose,
            "expires_at": slot.expires_at.isoformat(),
        }
    )
