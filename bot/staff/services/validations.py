"""Validation queues: what tenants submitted and staff decide on.

- Home-insurance certificates wait ``pending``; the help page promises "acceptation et mise à
  jour dans un délai de 48h", and "une demande d'information complémentaire" when incomplete.
- Direct-debit requests wait ``pending_signature`` until the signed SEPA mandate and an original
  RIB reach Service DFC or the agency (their decisions: ``direct_debit_decisions.py``, on the
  shared rules below: ``acting_staff``, ``claim_decision``, ``audit_decision``).

Both queues are shown oldest first, each item with its deadline (``created_at`` + the
landlord's ``VALIDATION_DELAY_HOURS`` or ``DIRECT_DEBIT_REVIEW_HOURS``).

Every decision runs in the caller's transaction and, all or nothing:

1. claims the item with a conditional ``UPDATE ... WHERE status = <waiting>``: a second decision
   (another staff member at the same moment, a form sent twice) finds no row to claim and gets
   ``Conflict("already_decided")``, on SQLite and PostgreSQL alike;
2. changes the portal's state (the certificate in force, the leases' debit day);
3. queues the tenant's email (outbox; French templates ``emails/insurance_*``,
   ``emails/direct_debit_*``);
4. writes the staff audit entry.

Errors (the portal's hierarchy): ``InvalidInput`` (reason or message missing or too long),
``NotFound`` (unknown item), ``Conflict`` (already decided), ``StaffNotAllowed`` (the acting
staff member is no longer active).
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import Conflict, InvalidInput, NotFound
from bot.policy.french_dates import format_french_date
from bot.policy.landlord import VALIDATION_DELAY_HOURS
from bot.portal.models import (
    IN_FORCE_STATUSES,
    CertificateStatus,
    DirectDebitRequest,
    DirectDebitStatus,
    Household,
    InsuranceCertificate,
    StaffAccount,
    StoredUpload,
    utcnow,
)
from bot.portal.services.households import active_account_of
from bot.portal.services.outbox import enqueue_email
from bot.settings import Settings
from bot.staff.errors import StaffNotAllowed
from bot.staff.services import audit

#: A reason or a message is emailed as typed: one form field's worth (``inputs.form_field``).
NOTE_MAX_LENGTH = 500

#: What a decision writes (read back after the conditional update).
DECISION_FIELDS = ["status", "decided_at", "decided_by_id", "staff_note"]

CERTIFICATE_TARGET = "insurance_certificate"
DIRECT_DEBIT_TARGET = "direct_debit_request"

INSURANCE_ACCEPTED = "insurance_accepted"
INSURANCE_REJECTED = "insurance_rejected"
INSURANCE_INFO_REQUESTED = "insurance_info_requested"
DIRECT_DEBIT_ACTIVATED = "direct_debit_activated"
DIRECT_DEBIT_REJECTED = "direct_debit_rejected"
DIRECT_DEBIT_INFO_REQUESTED = "direct_debit_info_requested"


# --------------------------------------------------------------------------- insurance decisions


async def accept_certificate(
    *,
    session: AsyncSession,
    settings: Settings,
    certificate_id: int,
    staff_id: int,
    ip: str | None = None,
) -> InsuranceCertificate:
    """Accept a pending certificate: it becomes the household's only one in force (those it
    replaces are ``superseded``, so the prefill and the expiry reminders follow it)."""
    return await _decide_certificate(
        session, settings, certificate_id, staff_id, ip, CertificateStatus.ACCEPTED, None
    )


async def reject_certificate(
    *,
    session: AsyncSession,
    settings: Settings,
    certificate_id: int,
    staff_id: int,
    reason: str,
    ip: str | None = None,
) -> InsuranceCertificate:
    """Reject a pending certificate with the reason the tenant is told; the one in force stays."""
    note = clean_note(reason, field="motif")
    return await _decide_certificate(
        session, settings, certificate_id, staff_id, ip, CertificateStatus.REJECTED, note
    )


async def request_certificate_information(
    *,
    session: AsyncSession,
    settings: Settings,
    certificate_id: int,
    staff_id: int,
    message: str,
    ip: str | None = None,
) -> InsuranceCertificate:
    """Ask the tenant for more (``info_requested``). The submission leaves the queue: it no
    longer counts as pending, so the tenant's next submission is accepted and replaces it."""
    note = clean_note(message, field="message")
    return await _decide_certificate(
        session, settings, certificate_id, staff_id, ip, CertificateStatus.INFO_REQUESTED, note
    )


#: Status reached -> (audit action, email template).
_CERTIFICATE_OUTCOMES = {
    CertificateStatus.ACCEPTED: (INSURANCE_ACCEPTED, "insurance_accepted"),
    CertificateStatus.REJECTED: (INSURANCE_REJECTED, "insurance_rejected"),
    CertificateStatus.INFO_REQUESTED: (INSURANCE_INFO_REQUESTED, "insurance_info_requested"),
}


async def _decide_certificate(
    session: AsyncSession,
    settings: Settings,
    certificate_id: int,
    staff_id: int,
    ip: str | None,
    status: CertificateStatus,
    note: str | None,
) -> InsuranceCertificate:
    await acting_staff(session, staff_id)
    certificate = await submitted_certificate(session, certificate_id)
    await claim_decision(session, certificate, CertificateStatus.PENDING, status, staff_id, note)
    if status == CertificateStatus.ACCEPTED:
        await session.execute(
            update(InsuranceCertificate)
            .where(
                InsuranceCertificate.household_id == certificate.household_id,
                InsuranceCertificate.id != certificate.id,
                InsuranceCertificate.status.in_(IN_FORCE_STATUSES),
            )
            .values(status=CertificateStatus.SUPERSEDED)
            .execution_options(synchronize_session=False)
        )
    action, template = _CERTIFICATE_OUTCOMES[status]
    # Emailed to the household's active account; a household without one (unsubscribed since)
    # is still decided on, and the audit entry says nobody was told.
    account = await active_account_of(session=session, household_id=certificate.household_id)
    if account is not None:
        await enqueue_email(
            session=session,
            to=account.email,
            template=template,
            insurer=certificate.insurer,
            policy_number=certificate.policy_number,
            valid_until=format_french_date(certificate.valid_until),
            note=note or "",
            delay_hours=VALIDATION_DELAY_HOURS,
            portal_url=settings.public_base_url,
        )
    household = await session.get(Household, certificate.household_id)
    await audit_decision(
        session,
        action,
        CERTIFICATE_TARGET,
        certificate.id,
        staff_id,
        ip,
        household,
        note,
        notified=account is not None,
    )
    return certificate


# --------------------------------------------------------------------------- rules and helpers


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


async def submitted_certificate(session: AsyncSession, certificate_id: int) -> InsuranceCertificate:
    certificate = await session.get(InsuranceCertificate, certificate_id)
    # Certificates on file (imported from the landlord's records) were never submitted.
    if certificate is None or certificate.submitted_at is None:
        raise NotFound(code="certificate_not_found")
    return certificate


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
