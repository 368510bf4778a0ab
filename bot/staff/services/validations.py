"""Validation queues: what tenants submitted and staff decide on.

- Home-insurance certificates wait ``pending``; the help page promises "acceptation et mise à
  jour dans un délai de 48h", and "une demande d'information complémentaire" when incomplete.
- Direct-debit requests wait ``pending_signature`` until the signed SEPA mandate and an original
  RIB reach Service DFC or the agency.

Both queues are shown oldest first, each item with its deadline (``created_at`` + 48 h).

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

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload, undefer

from bot.portal.errors import Conflict, InvalidInput, NotFound
from bot.portal.models import (
    IN_FORCE_STATUSES,
    Account,
    AccountStatus,
    CertificateStatus,
    DirectDebitRequest,
    DirectDebitStatus,
    Household,
    InsuranceCertificate,
    StaffAccount,
    StoredUpload,
    utcnow,
)
from bot.portal.services import uploads
from bot.portal.services.french_dates import format_french_date
from bot.portal.services.iban import mask_iban
from bot.portal.services.insurance import VALIDATION_DELAY_HOURS
from bot.portal.services.mandate_pdf import RETURN_ADDRESS
from bot.portal.services.outbox import enqueue_email
from bot.settings import Settings
from bot.staff.errors import StaffNotAllowed
from bot.staff.services import audit

INSURANCE = "insurance"
DIRECT_DEBIT = "direct_debit"
#: Help page: staff accept an insurance update "dans un délai de 48h".
INSURANCE_DELAY = timedelta(hours=VALIDATION_DELAY_HOURS)
#: The same target for a direct-debit request; the help page only says "quelques jours" for the
#: whole set-up, which includes the post.
DIRECT_DEBIT_DELAY = timedelta(hours=48)
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


# --------------------------------------------------------------------------- the queue


@dataclass(frozen=True)
class QueueItem:
    """One submission waiting for staff; ``remaining`` is negative once overdue."""

    kind: str  # INSURANCE | DIRECT_DEBIT
    id: int
    client_number: str
    surname: str
    created_at: datetime
    deadline: datetime
    remaining: timedelta
    # What the submission is about, for the row (insurance or direct debit fields).
    insurer: str = ""
    policy_number: str = ""
    bank_name: str = ""
    iban_masked: str = ""
    debit_day: int | None = None

    @property
    def overdue(self) -> bool:
        return self.remaining <= timedelta(0)


async def validation_queue(
    *, session: AsyncSession, now: datetime | None = None
) -> list[QueueItem]:
    """Pending certificates and requests waiting for their signed mandate, oldest first."""
    now = now or utcnow()
    certificates = await session.execute(
        select(InsuranceCertificate, Household)
        .join(Household, Household.id == InsuranceCertificate.household_id)
        .where(InsuranceCertificate.status == CertificateStatus.PENDING)
    )
    requests = await session.execute(
        select(DirectDebitRequest, Household)
        .join(Household, Household.id == DirectDebitRequest.household_id)
        .where(DirectDebitRequest.status == DirectDebitStatus.PENDING_SIGNATURE)
    )
    items = [
        _item(
            INSURANCE,
            certificate,
            household,
            INSURANCE_DELAY,
            now,
            insurer=certificate.insurer,
            policy_number=certificate.policy_number,
        )
        for certificate, household in certificates
    ] + [
        _item(
            DIRECT_DEBIT,
            request,
            household,
            DIRECT_DEBIT_DELAY,
            now,
            bank_name=request.bank_name,
            iban_masked=mask_iban(request.iban),
            debit_day=request.debit_day,
        )
        for request, household in requests
    ]
    return sorted(items, key=lambda item: (item.created_at, item.kind, item.id))


def _item(
    kind: str, row: Any, household: Household, delay: timedelta, now: datetime, **about: Any
) -> QueueItem:
    deadline = row.created_at + delay
    return QueueItem(
        kind=kind,
        id=row.id,
        client_number=household.client_number,
        surname=household.signatory_surname,
        created_at=row.created_at,
        deadline=deadline,
        remaining=deadline - now,
        **about,
    )


# --------------------------------------------------------------------------- detail pages


@dataclass(frozen=True)
class CertificateReview:
    """What staff see to decide on a certificate."""

    certificate: InsuranceCertificate
    household: Household
    upload: StoredUpload | None  # without its bytes (``certificate_file`` streams them)
    tenant_email: str | None  # the active account the decision is emailed to
    in_force: InsuranceCertificate | None  # what accepting it replaces
    history: list[InsuranceCertificate]  # the household's other certificates, newest first
    decided_by: str | None
    deadline: datetime


@dataclass(frozen=True)
class DirectDebitReview:
    """What staff see to compare with the signed mandate and the RIB received."""

    request: DirectDebitRequest  # with its leases
    household: Household
    upload: StoredUpload | None  # the RIB, without its bytes
    history: list[DirectDebitRequest]  # the household's other requests, newest first
    decided_by: str | None
    deadline: datetime


async def certificate_review(*, session: AsyncSession, certificate_id: int) -> CertificateReview:
    certificate = await _certificate(session, certificate_id)
    household = await session.get(Household, certificate.household_id)
    others = list(
        await session.scalars(
            select(InsuranceCertificate)
            .where(
                InsuranceCertificate.household_id == certificate.household_id,
                InsuranceCertificate.id != certificate.id,
            )
            .order_by(InsuranceCertificate.created_at.desc(), InsuranceCertificate.id.desc())
        )
    )
    in_force = [c for c in others if c.status in IN_FORCE_STATUSES]
    account = await _active_account(session, certificate.household_id)
    return CertificateReview(
        certificate=certificate,
        household=household,
        upload=await _upload_of_slot(session, certificate.upload_slot_id),
        tenant_email=account.email if account else None,
        in_force=max(in_force, key=lambda c: (c.valid_until, c.id)) if in_force else None,
        history=others,
        decided_by=await _staff_name(session, certificate.decided_by_id),
        deadline=certificate.created_at + INSURANCE_DELAY,
    )


async def direct_debit_review(*, session: AsyncSession, request_id: int) -> DirectDebitReview:
    request = await _direct_debit(session, request_id)
    household = await session.get(Household, request.household_id)
    history = list(
        await session.scalars(
            select(DirectDebitRequest)
            .where(
                DirectDebitRequest.household_id == request.household_id,
                DirectDebitRequest.id != request.id,
            )
            .order_by(DirectDebitRequest.created_at.desc(), DirectDebitRequest.id.desc())
        )
    )
    upload = await session.get(StoredUpload, request.rib_upload_id)
    return DirectDebitReview(
        request=request,
        household=household,
        upload=upload,
        history=history,
        decided_by=await _staff_name(session, request.decided_by_id),
        deadline=request.created_at + DIRECT_DEBIT_DELAY,
    )


async def certificate_file(*, session: AsyncSession, certificate_id: int) -> StoredUpload:
    """The certificate's PDF, with its bytes; ``NotFound`` if none."""
    certificate = await _certificate(session, certificate_id)
    slot_id = certificate.upload_slot_id
    upload = None if slot_id is None else await uploads.upload_for(session=session, slot_id=slot_id)
    if upload is None:
        raise NotFound("Aucune attestation n'est jointe.", code="certificate_file_not_found")
    return upload


async def direct_debit_rib(*, session: AsyncSession, request_id: int) -> StoredUpload:
    """The RIB sent with the request, with its bytes."""
    request = await _direct_debit(session, request_id)
    upload = await session.scalar(
        select(StoredUpload)
        .where(StoredUpload.id == request.rib_upload_id)
        .options(undefer(StoredUpload.data))
    )
    if upload is None:  # pragma: no cover - the foreign key forbids it
        raise NotFound("RIB introuvable.", code="rib_not_found")
    return upload


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
    await _actor(session, staff_id)
    certificate = await _certificate(session, certificate_id)
    await _claim(session, certificate, CertificateStatus.PENDING, status, staff_id, note)
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
    account = await _active_account(session, certificate.household_id)
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
    await _audit(
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


# --------------------------------------------------------------------------- direct-debit decisions


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
    await _actor(session, staff_id)
    request = await _direct_debit(session, request_id)
    await _claim(session, request, DirectDebitStatus.PENDING_SIGNATURE, status, staff_id, note)
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
    await _audit(
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
        label = "le motif du refus" if field == "motif" else "l'information demandée au locataire"
        raise InvalidInput(
            f"Indiquez {label} : il lui est envoyé par e-mail.", code="note_required", field=field
        )
    if len(note) > NOTE_MAX_LENGTH:
        raise InvalidInput(
            f"Le texte est trop long ({NOTE_MAX_LENGTH} caractères au plus).",
            code="note_too_long",
            field=field,
        )
    return note


async def _actor(session: AsyncSession, staff_id: int) -> StaffAccount:
    """The deciding staff member, read in this transaction: a deactivation applies at once."""
    staff = await session.get(StaffAccount, staff_id)
    if staff is None or not staff.active:
        raise StaffNotAllowed("Action réservée au personnel en activité.")
    return staff


async def _certificate(session: AsyncSession, certificate_id: int) -> InsuranceCertificate:
    certificate = await session.get(InsuranceCertificate, certificate_id)
    # Certificates on file (imported from the landlord's records) were never submitted.
    if certificate is None or certificate.submitted_at is None:
        raise NotFound("Attestation introuvable.", code="certificate_not_found")
    return certificate


async def _direct_debit(session: AsyncSession, request_id: int) -> DirectDebitRequest:
    request = await session.scalar(
        select(DirectDebitRequest)
        .where(DirectDebitRequest.id == request_id)
        .options(selectinload(DirectDebitRequest.leases))
    )
    if request is None:
        raise NotFound("Demande de prélèvement introuvable.", code="direct_debit_not_found")
    return request


async def _claim(
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
        raise Conflict(
            "Cette demande a déjà été traitée : rechargez la file des validations.",
            code="already_decided",
        )
    await session.refresh(item, DECISION_FIELDS)


async def _active_account(session: AsyncSession, household_id: int) -> Account | None:
    return await session.scalar(
        select(Account).where(
            Account.household_id == household_id, Account.status == AccountStatus.ACTIVE
        )
    )


async def _upload_of_slot(session: AsyncSession, slot_id: int | None) -> StoredUpload | None:
    if slot_id is None:
        return None
    return await session.scalar(select(StoredUpload).where(StoredUpload.slot_id == slot_id))


async def _staff_name(session: AsyncSession, staff_id: int | None) -> str | None:
    if staff_id is None:
        return None
    return await session.scalar(
        select(StaffAccount.display_name).where(StaffAccount.id == staff_id)
    )


async def _audit(
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
