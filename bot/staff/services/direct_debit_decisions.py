"""Staff decisions on direct-debit requests (``pending_signature``): activate once the signed
mandate and the original RIB arrived, reject with a reason, or ask for more information.

Same rules as the insurance decisions (``decisions.py``): claimed with a conditional update,
the tenant emailed where the mandate was sent, audited, all in the caller's transaction.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.errors import NotFound
from bot.portal.models import DirectDebitRequest, DirectDebitStatus, Household
from bot.portal.services.iban import mask_iban
from bot.portal.services.mandate_pdf import RETURN_ADDRESS
from bot.portal.services.outbox import enqueue_email
from bot.settings import Settings
from bot.staff.services.decisions import (
    DIRECT_DEBIT_TARGET,
    acting_staff,
    audit_decision,
    claim_decision,
    clean_note,
)

DIRECT_DEBIT_ACTIVATED = "direct_debit_activated"
DIRECT_DEBIT_REJECTED = "direct_debit_rejected"
DIRECT_DEBIT_INFO_REQUESTED = "direct_debit_info_requested"


async def activate_direct_debit(
    *,
    session: AsyncSession,
    settings: Settings,
    request_id: int,
    staff_id: int,
    ip: str | None = None,
) -> DirectDebitRequest:
    """The signed mandate and the original RIB arrived: the direct debit is active, its leases
    are debited on the chosen day, and an older active request for the same leases is
    ``superseded``."""
    return await _decide_direct_debit(
        session, settings, request_id, staff_id, ip, DirectDebitStatus.ACTIVE, None
    )


async def reject_direct_debit(
    *,
    session: AsyncSession,
    settings: Settings,
    request_id: int,
    staff_id: int,
    reason: str,
    ip: str | None = None,
) -> DirectDebitRequest:
    """Refuse the request with the reason the tenant is told; the leases are not touched."""
    note = clean_note(reason, field="motif")
    return await _decide_direct_debit(
        session, settings, request_id, staff_id, ip, DirectDebitStatus.REJECTED, note
    )


async def request_direct_debit_information(
    *,
    session: AsyncSession,
    settings: Settings,
    request_id: int,
    staff_id: int,
    message: str,
    ip: str | None = None,
) -> DirectDebitRequest:
    """Ask the tenant for more (``info_requested``): the request leaves the queue and the tenant
    makes a new one, whose new mandate is the one to sign (it no longer counts as pending)."""
    note = clean_note(message, field="message")
    return await _decide_direct_debit(
        session, settings, request_id, staff_id, ip, DirectDebitStatus.INFO_REQUESTED, note
    )


_DIRECT_DEBIT_OUTCOMES = {
    DirectDebitStatus.ACTIVE: (DIRECT_DEBIT_ACTIVATED, "direct_debit_activated"),
    DirectDebitStatus.REJECTED: (DIRECT_DEBIT_REJECTED, "direct_debit_rejected"),
    DirectDebitStatus.INFO_REQUESTED: (DIRECT_DEBIT_INFO_REQUESTED, "direct_debit_info_requested"),
}


async def _decide_direct_debit(
    session: AsyncSession,
    settings: Settings,
    request_id: int,
    staff_id: int,
    ip: str | None,
    status: DirectDebitStatus,
    note: str | None,
) -> DirectDebitRequest:
    await acting_staff(session, staff_id)
    request = await direct_debit_request(session, request_id)
    await claim_decision(
        session, request, DirectDebitStatus.PENDING_SIGNATURE, status, staff_id, note
    )
    if status == DirectDebitStatus.ACTIVE:
        for lease in request.leases:
            lease.direct_debit_day = request.debit_day
        await _supersede_older_mandates(session, request)
    action, template = _DIRECT_DEBIT_OUTCOMES[status]
    # Emailed where the mandate was sent.
    await enqueue_email(
        session=session,
        to=request.email,
        template=template,
        reference=request.mandate_reference,
        iban_masked=mask_iban(request.iban),
        bank_name=request.bank_name,
        debit_day=request.debit_day,
        leases=[f"{lease.label} ({lease.reference})" for lease in request.leases],
        note=note or "",
        creditor_name=settings.creditor_name,
        return_address=RETURN_ADDRESS,
        portal_url=settings.public_base_url,
    )
    household = await session.get(Household, request.household_id)
    await audit_decision(
        session,
        action,
        DIRECT_DEBIT_TARGET,
        request.id,
        staff_id,
        ip,
        household,
        note,
        notified=True,
    )
    return request


async def _supersede_older_mandates(session: AsyncSession, request: DirectDebitRequest) -> None:
    """Older active requests whose every lease the new mandate covers are replaced by it."""
    covered = {lease.id for lease in request.leases}
    older = await session.scalars(
        select(DirectDebitRequest)
        .where(
            DirectDebitRequest.household_id == request.household_id,
            DirectDebitRequest.id != request.id,
            DirectDebitRequest.status == DirectDebitStatus.ACTIVE,
        )
        .options(selectinload(DirectDebitRequest.leases))
    )
    for previous in older:
        if {lease.id for lease in previous.leases} <= covered:
            previous.status = DirectDebitStatus.SUPERSEDED


async def direct_debit_request(session: AsyncSession, request_id: int) -> DirectDebitRequest:
    request = await session.scalar(
        select(DirectDebitRequest)
        .where(DirectDebitRequest.id == request_id)
        .options(selectinload(DirectDebitRequest.leases))
    )
    if request is None:
        raise NotFound(code="direct_debit_not_found")
    return request
