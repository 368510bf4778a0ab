"""The staff's validation queue and the detail pages behind it: what waits for a decision,
oldest first, with its deadline (the landlord's delays), and the files to look at (read only;
decisions are in ``validations``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from bot.errors import NotFound
from bot.policy import landlord
from bot.portal.models import (
    IN_FORCE_STATUSES,
    CertificateStatus,
    DirectDebitRequest,
    DirectDebitStatus,
    Household,
    InsuranceCertificate,
    StoredUpload,
    utcnow,
)
from bot.portal.services import uploads
from bot.portal.services.households import active_account_of
from bot.portal.services.iban import mask_iban
from bot.staff.services.certificate_decisions import submitted_certificate
from bot.staff.services.decisions import staff_name, upload_of_slot
from bot.staff.services.direct_debit_decisions import direct_debit_request

INSURANCE = "insurance"
DIRECT_DEBIT = "direct_debit"
INSURANCE_DELAY = timedelta(hours=landlord.VALIDATION_DELAY_HOURS)
DIRECT_DEBIT_DELAY = timedelta(hours=landlord.DIRECT_DEBIT_REVIEW_HOURS)

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


_Submission = TypeVar("_Submission", InsuranceCertificate, DirectDebitRequest)


async def _household_history(
    session: AsyncSession, model: type[_Submission], submission: _Submission
) -> list[_Submission]:
    """The household's other submissions of the same kind, newest first."""
    return list(
        await session.scalars(
            select(model)
            .where(model.household_id == submission.household_id, model.id != submission.id)
            .order_by(model.created_at.desc(), model.id.desc())
        )
    )


async def certificate_review(*, session: AsyncSession, certificate_id: int) -> CertificateReview:
    certificate = await submitted_certificate(session, certificate_id)
    household = await session.get(Household, certificate.household_id)
    others = await _household_history(session, InsuranceCertificate, certificate)
    in_force = [c for c in others if c.status in IN_FORCE_STATUSES]
    account = await active_account_of(session=session, household_id=certificate.household_id)
    return CertificateReview(
        certificate=certificate,
        household=household,
        upload=await upload_of_slot(session, certificate.upload_slot_id),
        tenant_email=account.email if account else None,
        in_force=max(in_force, key=lambda c: (c.valid_until, c.id)) if in_force else None,
        history=others,
        decided_by=await staff_name(session, certificate.decided_by_id),
        deadline=certificate.created_at + INSURANCE_DELAY,
    )


async def direct_debit_review(*, session: AsyncSession, request_id: int) -> DirectDebitReview:
    request = await direct_debit_request(session, request_id)
    household = await session.get(Household, request.household_id)
    history = await _household_history(session, DirectDebitRequest, request)
    upload = await session.get(StoredUpload, request.rib_upload_id)
    return DirectDebitReview(
        request=request,
        household=household,
        upload=upload,
        history=history,
        decided_by=await staff_name(session, request.decided_by_id),
        deadline=request.created_at + DIRECT_DEBIT_DELAY,
    )


async def certificate_file(*, session: AsyncSession, certificate_id: int) -> StoredUpload:
    """The certificate's PDF, with its bytes; ``NotFound`` if none."""
    certificate = await submitted_certificate(session, certificate_id)
    slot_id = certificate.upload_slot_id
    upload = None if slot_id is None else await uploads.upload_for(session=session, slot_id=slot_id)
    if upload is None:
        raise NotFound(code="certificate_file_not_found")
    return upload


async def direct_debit_rib(*, session: AsyncSession, request_id: int) -> StoredUpload:
    """The RIB sent with the request, with its bytes."""
    request = await direct_debit_request(session, request_id)
    upload = await session.scalar(
        select(StoredUpload)
        .where(StoredUpload.id == request.rib_upload_id)
        .options(undefer(StoredUpload.data))
    )
    if upload is None:  # pragma: no cover - the foreign key forbids it
        raise NotFound(code="rib_not_found")
    return upload
