"""Administration (admins only): erase one household on request.

Three steps, so that nobody erases the wrong household by a slip: look the client number up
(GET, shows the surname and what would be erased and kept), confirm by typing the number
again (POST, CSRF-checked, audited), then the page of what was done, read back from the audit
entry. The rules are in ``bot/staff/retention/household.py``.
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect
from sqlalchemy import select

from bot.errors import InvalidInput, NotFound, PortalError
from bot.portal.models import StaffAuditEntry, StaffRole
from bot.staff.retention.household import HOUSEHOLD_ERASED, erase_household, erasure_plan
from bot.staff.transcripts.tracker import TrackerUnavailable
from bot.staff.web.auth import HEADERS, french_datetime, staff_page, staff_required
from bot.web.errors import status_of
from bot.web.inputs import client_ip, form_field

bp = Blueprint("staff_erasure")

ERASURE = "/staff/administration/effacement"
admin_required = staff_required(role=StaffRole.ADMIN)


async def _page(
    request: Request,
    *,
    number: str,
    status: int = 200,
    problem: str = "",
    tracker_down: bool = False,
) -> HTTPResponse:
    """The look-up form, and for ``number`` what erasing it would do (or why it cannot)."""
    plan = None
    if number:
        try:
            async with request.app.ctx.sessions() as session:
                plan = await erasure_plan(session=session, client_number=number)
        except (InvalidInput, NotFound) as error:
            status, problem = status_of(error), str(error)
    return staff_page(
        request,
        "staff/erasure.html",
        status=status,
        section="administration",
        number=number,
        plan=plan,
        problem=problem,
        tracker_down=tracker_down,
        done=await _done(request),
        retention_days=request.app.ctx.settings.transcript_retention_days,
    )


async def _done(request: Request) -> dict[str, object] | None:
    """The erasure just made (``?efface=``), as its audit entry recorded it."""
    number = request.args.get("efface", "")
    if not number:
        return None
    async with request.app.ctx.sessions() as session:
        entry = await session.scalar(
            select(StaffAuditEntry)
            .where(
                StaffAuditEntry.action == HOUSEHOLD_ERASED,
                StaffAuditEntry.target_id == number,
            )
            .order_by(StaffAuditEntry.id.desc())
            .limit(1)
        )
    if entry is None:
        return None
    return {"number": number, "at": french_datetime(entry.at), "counts": entry.details or {}}


@bp.get(ERASURE)
@admin_required
async def erasure_page(request: Request) -> HTTPResponse:
    return await _page(request, number=request.args.get("numero", "").strip())


@bp.post(f"{ERASURE}/<client_number>")
@admin_required
async def erase(request: Request, client_number: str) -> HTTPResponse:
    try:
        typed = form_field(request, "confirmation").replace(" ", "")
        if typed != client_number:
            raise InvalidInput(code="erasure_not_confirmed", field="confirmation")
        async with request.app.ctx.sessions.begin() as session:
            await erase_household(
                session=session,
                settings=request.app.ctx.settings,
                client_number=client_number,
                actor_id=request.ctx.staff.id,
                ip=client_ip(request),
            )
    except PortalError as error:
        return await _page(
            request, number=client_number, status=status_of(error), problem=str(error)
        )
    except TrackerUnavailable:
        return await _page(request, number=client_number, status=503, tracker_down=True)
    return redirect(f"{ERASURE}?efface={client_number}", status=303, headers=HEADERS)
