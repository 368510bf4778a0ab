"""What every staff decision on a submission does, whichever queue it comes from (insurance
certificates: ``certificate_decisions.py``; direct-debit requests: ``direct_debit_decisions.py``).

Every decision runs in the caller's transaction and, all or nothing:

1. claims the item with a conditional ``UPDATE ... WHERE status = <waiting>``: a second decision
   (another staff member at the same moment, a form sent twice) finds no row to claim and gets
   ``Conflict("already_decided")``, on SQLite and PostgreSQL alike;
2. changes the portal's state (the certificate in force, the leases' debit day);
3. queues the tenant's email (outbox; French templates ``emails/insurance_*``,
   ``emails/direct_debit_*``);
4. writes the staff audit entry.

Errors (the one hierarchy, ``bot.errors``): ``InvalidInput`` (reason or message missing or too
long), ``NotFound`` (unknown item), ``Conflict`` (already decided), ``StaffNotAllowed`` (the
acting staff member is no longer active).
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import Conflict, InvalidInput
from bot.portal.models import (
    CertificateStatus,
    DirectDebitRequest,
    DirectDebitStatus,
    Household,
    InsuranceCertificate,
    StaffAccount,
    StoredUpload,
    utcnow,
)
from bot.staff.errors import StaffNotAllowed
from bot.staff.services import audit

#: A reason or a message is emailed as typed: one form field's worth (``inputs.form_field``).
NOTE_MAX_LENGTH = 500

#: What a decision writes (read back after the conditional update).
DECISION_FIELDS = ["status", "decided_at", "decided_by_id", "staff_note"]

CERTIFICATE_TARGET = "insurance_certificate"
DIRECT_DEBIT_TARGET = "direct_debit_request"


def clean_note(text: str, *, field: str) -> str:
    """A reason or message as the tenant will read it: trimmed, printable, not empty."""
    lines = [
        "".join(c for c in line if c.isprintable()).strip()
        for line in (text or "").replace("\r\n", "\n").split("\n")
    ]
    note = "\n".join(lines).strip()
    while "\n\n\n" in note:
        note = note.replace("\n\n\n", "\n\n")
    if not note:
        variant = "motif" if field == "motif" else "message"
        raise InvalidInput(code="note_required", variant=variant, field=field)
    if len(note) > NOTE_MAX_LENGTH:
        raise InvalidInput(code="note_too_long", field=field, maximum=NOTE_MAX_LENGTH)
    return note


async def acting_staff(session: AsyncSession, staff_id: int) -> StaffAccount:
    """The deciding staff member, read in this transaction: a deactivation applies at once."""
    staff = await session.get(StaffAccount, staff_id)
    if staff is None or not staff.active:
        raise StaffNotAllowed(variant="inactive")
    return staff


async def claim_decision(
    session: AsyncSession,
    item: InsuranceCertificate | DirectDebitRequest,
    waiting: CertificateStatus | DirectDebitStatus,
    status: CertificateStatus | DirectDebitStatus,
    staff_id: int,
    note: str | None,
) -> None:
    """Move ``item`` out of ``waiting``; ``Conflict`` if a decision was already made.

    A conditional update rather than a check then a write: of two staff members deciding at
    the same moment, only one finds the row still waiting.
    """
    model = type(item)
    claimed = await session.execute(
        update(model)
        .where(model.id == item.id, model.status == waiting)
        .values(status=status, decided_at=utcnow(), decided_by_id=staff_id, staff_note=note)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise Conflict(code="already_decided")
    await session.refresh(item, DECISION_FIELDS)


async def upload_of_slot(session: AsyncSession, slot_id: int | None) -> StoredUpload | None:
    if slot_id is None:
        return None
    return await session.scalar(select(StoredUpload).where(StoredUpload.slot_id == slot_id))


async def staff_name(session: AsyncSession, staff_id: int | None) -> str | None:
    if staff_id is None:
        return None
    return await session.scalar(
        select(StaffAccount.display_name).where(StaffAccount.id == staff_id)
    )


async def audit_decision(
    session: AsyncSession,
    action: str,
    target_type: str,
    target_id: int,
    staff_id: int,
    ip: str | None,
    household: Household,
    note: str | None,
    *,
    notified: bool,
) -> None:
    note_key = "message" if action.endswith("_info_requested") else "reason"
    details: dict[str, object] = {"client_number": household.client_number}
    if note:
        details[note_key] = note
    details["tenant_emailed"] = notified
    await audit.record(
        action,
        session=session,
        staff_id=staff_id,
        target_type=target_type,
        target_id=target_id,
        details=details,
        ip=ip,
    )
