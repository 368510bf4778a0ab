"""Direct debit of the rent ("souscrire au prélèvement automatique", help page, MON LOYER).

The tenant gives an IBAN and the bank's name, confirms the contact details, picks the 2nd, 7th
or 10th of the month and sends a RIB through an upload link. The portal then records the
request (``pending_signature``) and emails a prefilled SEPA mandate as a PDF, to be signed and
returned with an original RIB; staff switch it to ``active`` once they have it.
"""

from __future__ import annotations

import asyncio
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import ColumnElement

from bot.errors import Conflict, InvalidInput, NotFound, message_text, or_list
from bot.policy.landlord import DEBIT_DAYS
from bot.portal.models import (
    Account,
    AccountStatus,
    DirectDebitDraft,
    DirectDebitRequest,
    DirectDebitStatus,
    Household,
    Lease,
    StoredUpload,
    UploadSlot,
    utcnow,
)
from bot.portal.services import uploads
from bot.portal.services.balance import leases_of
from bot.portal.services.households import live_account_of
from bot.portal.services.iban import IbanCheck, check_iban, mask_iban
from bot.portal.services.mandate_pdf import RETURN_ADDRESS, MandateDetails, render_mandate_pdf
from bot.portal.services.outbox import enqueue_email
from bot.settings import Settings

RIB_PURPOSE = "rib"
RIB_KINDS = frozenset({"pdf", "image"})
HOLDER_NAME_MAX = 120
ADDRESS_MAX = 300
BANK_NAME_MAX = 120
_LOCAL_TIME = ZoneInfo("Europe/Paris")
_REFERENCE_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class DebitProfile:
    """What the chat proposes for the tenant to confirm."""

    holder_name: str
    address: str
    email: str
    debit_day: int | None  # the day of an active direct debit, if any
    leases: list[tuple[str, str]] = field(default_factory=list)  # (reference, label)
    pending_reference: str | None = None


async def _pending_request(
    *, session: AsyncSession, household_id: int
) -> DirectDebitRequest | None:
    return await session.scalar(
        select(DirectDebitRequest).where(
            DirectDebitRequest.household_id == household_id,
            DirectDebitRequest.status == DirectDebitStatus.PENDING_SIGNATURE,
        )
    )


async def profile_for_debit(
    *, session: AsyncSession, household_id: int, account_id: int
) -> DebitProfile:
    """Contact details prefilled from the household and its account."""
    household = await session.get(Household, household_id)
    account = await session.get(Account, account_id)
    if household is None or account is None or account.household_id != household_id:
        raise NotFound(code="account_not_found")
    leases = await leases_of(session=session, household_id=household_id)
    pending = await _pending_request(session=session, household_id=household_id)
    return DebitProfile(
        holder_name=household.signatory_surname,
        address=household.address or "",
        email=account.email,
        debit_day=next(
            (lease.direct_debit_day for lease in leases if lease.direct_debit_day), None
        ),
        leases=[(lease.reference, lease.label) for lease in leases],
        pending_reference=pending.mandate_reference if pending else None,
    )


# --------------------------------------------------------------------------- input rules


def check_debit_day(day: int) -> int:
    if isinstance(day, bool) or day not in DEBIT_DAYS:
        raise InvalidInput(
            code="invalid_debit_day",
            field="debit_day",
            days=or_list(message_text("debit_day", day=day) for day in DEBIT_DAYS),
        )
    return day


def _text(value: str, *, name: str, code: str, minimum: int, maximum: int) -> str:
    cleaned = " ".join((value or "").split())
    if not minimum <= len(cleaned) <= maximum or not any(c.isalnum() for c in cleaned):
        raise InvalidInput(code=code, field=name)
    return cleaned


def _bank_name(typed: str, check: IbanCheck) -> str:
    typed = " ".join((typed or "").split())
    if len(typed) > BANK_NAME_MAX:
        raise InvalidInput(code="invalid_bank_name", field="bank_name")
    name = typed or check.bank_name or ""
    if not name:
        raise InvalidInput(code="missing_bank_name", field="bank_name")
    return name


def _mandate_reference(client_number: str, now: datetime) -> str:
    """``OPH-<client number>-<yyyymmdd>-<6 random>``: unique, at most 35 characters (SEPA)."""
    suffix = "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(6))
    return f"OPH-{client_number}-{now.astimezone(_LOCAL_TIME):%Y%m%d}-{suffix}"


# --------------------------------------------------------------------------- the chat's draft


async def remember_iban(
    *,
    session: AsyncSession,
    conversation_id: str,
    household_id: int,
    iban: str,
    expires_at: datetime,
) -> IbanCheck:
    """Check the IBAN typed in a conversation and keep it for that conversation's request.

    A new IBAN replaces the previous one; ``InvalidInput`` (see ``iban.check_iban``) keeps
    nothing.
    """
    checked = check_iban(iban)
    draft = await session.scalar(
        select(DirectDebitDraft).where(DirectDebitDraft.conversation_id == conversation_id)
    )
    if draft is None:
        draft = DirectDebitDraft(conversation_id=conversation_id)
        session.add(draft)
    draft.household_id = household_id
    draft.iban = checked.iban
    draft.created_at = utcnow()
    draft.expires_at = expires_at
    try:
        await session.flush()
    except IntegrityError:  # the same conversation raced itself: the other IBAN stays
        raise Conflict(code="iban_conflict") from None
    return checked


async def drafted_iban(*, session: AsyncSession, conversation_id: str, household_id: int) -> str:
    """The IBAN this conversation typed, or ``Conflict("iban_missing")`` (none, or expired)."""
    draft = await session.scalar(
        select(DirectDebitDraft).where(
            DirectDebitDraft.conversation_id == conversation_id,
            DirectDebitDraft.household_id == household_id,
            DirectDebitDraft.expires_at > utcnow(),
        )
    )
    if draft is None:
        raise Conflict(code="iban_missing")
    return draft.iban


async def forget_draft(*, session: AsyncSession, conversation_id: str) -> None:
    await session.execute(
        delete(DirectDebitDraft).where(DirectDebitDraft.conversation_id == conversation_id)
    )


async def discard_draft(
    *, session: AsyncSession, conversation_id: str, rib_slot_id: int | None = None
) -> int:
    """The tenant gave the request up ("annuler", "non" to the summary): forget the IBAN the
    conversation typed and the RIB it sent through ``rib_slot_id``, unless a request uses that
    file. Only a RIB of the draft's household goes; nothing to forget is no error. Return how
    many things were deleted."""
    draft = await session.scalar(
        select(DirectDebitDraft).where(DirectDebitDraft.conversation_id == conversation_id)
    )
    if draft is None:
        return 0
    deleted = 1
    if rib_slot_id is not None:
        deleted += await _delete_unclaimed_ribs(
            session,
            UploadSlot.id == rib_slot_id,
            UploadSlot.household_id == draft.household_id,
        )
    await session.delete(draft)
    await session.flush()
    return deleted


async def purge_expired_drafts(*, session: AsyncSession) -> int:
    """Drop the IBANs of requests that were never sent (daily job): the drafts expired with
    their verification, and the RIBs no request uses once their upload link has expired."""
    now = utcnow()
    result = await session.execute(
        delete(DirectDebitDraft).where(DirectDebitDraft.expires_at <= now)
    )
    ribs = await _delete_unclaimed_ribs(session, UploadSlot.expires_at <= now)
    return (result.rowcount or 0) + ribs


async def _delete_unclaimed_ribs(session: AsyncSession, *slot_conditions: ColumnElement) -> int:
    """Delete the RIB files, received through slots matching ``slot_conditions``, that no
    direct-debit request refers to (a request keeps its RIB for staff)."""
    slots = select(UploadSlot.id).where(UploadSlot.purpose == RIB_PURPOSE, *slot_conditions)
    result = await session.execute(
        delete(StoredUpload)
        .where(
            StoredUpload.slot_id.in_(slots),
            StoredUpload.id.not_in(select(DirectDebitRequest.rib_upload_id)),
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


# --------------------------------------------------------------------------- the request


async def _rib_upload_id(*, session: AsyncSession, household_id: int, slot_id: int) -> int:
    slot = await uploads.slot_for_purpose(
        session=session, slot_id=slot_id, household_id=household_id, purpose=RIB_PURPOSE
    )
    if slot is None:
        raise InvalidInput(code="rib_not_found", variant="slot", field="rib_slot_id")
    upload = await uploads.upload_for(session=session, slot_id=slot.id)
    if upload is None:
        raise Conflict(code="rib_not_received")
    return upload.id


async def _chosen_leases(
    *, session: AsyncSession, household_id: int, references: Sequence[str] | None
) -> list[Lease]:
    leases = await leases_of(session=session, household_id=household_id)
    if not references:
        return leases
    chosen = [lease for lease in leases if lease.reference in set(references)]
    if len(chosen) != len(set(references)):
        raise InvalidInput(code="unknown_lease", field="leases")
    return chosen


async def _active_account(
    *, session: AsyncSession, household_id: int, account_id: int | None
) -> Account:
    account = (
        await session.get(Account, account_id)
        if account_id is not None
        else await live_account_of(session=session, household_id=household_id)
    )
    if account is None or account.household_id != household_id:
        raise NotFound(code="account_not_found")
    if account.status != AccountStatus.ACTIVE:
        raise Conflict(code="account_not_active", variant="direct_debit")
    return account


async def create_request(
    *,
    session: AsyncSession,
    settings: Settings,
    household_id: int,
    iban: str,
    bank_name: str,
    debit_day: int,
    holder_name: str,
    address: str,
    rib_slot_id: int,
    account_id: int | None = None,
    lease_references: Sequence[str] | None = None,
) -> DirectDebitRequest:
    """Record a direct-debit request and email its prefilled SEPA mandate.

    Raises ``InvalidInput`` (IBAN, day, name, address, bank name, RIB slot, lease), ``Conflict``
    (``rib_not_received``, ``direct_debit_pending``) or ``NotFound``; nothing is recorded then.
    """
    iban_check = check_iban(iban)
    check_debit_day(debit_day)
    holder = _text(
        holder_name,
        name="holder_name",
        code="invalid_holder_name",
        minimum=2,
        maximum=HOLDER_NAME_MAX,
    )
    postal = _text(
        address,
        name="address",
        code="invalid_address",
        minimum=8,
        maximum=ADDRESS_MAX,
    )
    bank = _bank_name(bank_name, iban_check)
    household = await session.get(Household, household_id)
    if household is None:
        raise NotFound(code="household_not_found")
    account = await _active_account(
        session=session, household_id=household_id, account_id=account_id
    )
    leases = await _chosen_leases(
        session=session, household_id=household_id, references=lease_references
    )
    rib_upload_id = await _rib_upload_id(
        session=session, household_id=household_id, slot_id=rib_slot_id
    )
    if await _pending_request(session=session, household_id=household_id) is not None:
        raise _pending_conflict()

    now = utcnow()
    request = DirectDebitRequest(
        household_id=household_id,
        account_id=account.id,
        mandate_reference=_mandate_reference(household.client_number, now),
        iban=iban_check.iban,
        bic=iban_check.bic,
        bank_name=bank,
        holder_name=holder,
        address=postal,
        email=account.email,
        debit_day=debit_day,
        rib_upload_id=rib_upload_id,
        status=DirectDebitStatus.PENDING_SIGNATURE,
        created_at=now,
        leases=leases,
    )
    session.add(request)
    try:
        await session.flush()
    except IntegrityError:  # a concurrent request of the same household won the race
        raise _pending_conflict() from None
    await _email_mandate(session=session, settings=settings, request=request, now=now)
    return request


def _pending_conflict() -> Conflict:
    return Conflict(code="direct_debit_pending")


async def _email_mandate(
    *, session: AsyncSession, settings: Settings, request: DirectDebitRequest, now: datetime
) -> None:
    details = MandateDetails(
        creditor_name=settings.creditor_name,
        creditor_identifier=settings.creditor_identifier,
        reference=request.mandate_reference,
        debtor_name=request.holder_name,
        debtor_address=request.address,
        iban=request.iban,
        bic=request.bic,
        bank_name=request.bank_name,
        debit_day=request.debit_day,
        signed_on=now.astimezone(_LOCAL_TIME).date(),
        leases=tuple(f"{lease.label} ({lease.reference})" for lease in request.leases),
    )
    pdf = await asyncio.to_thread(render_mandate_pdf, details)
    filename = f"mandat-sepa-{request.mandate_reference}.pdf"
    await enqueue_email(
        session=session,
        to=request.email,
        template="direct_debit_mandate",
        attachments=[(filename, "application/pdf", pdf)],
        reference=request.mandate_reference,
        iban_masked=mask_iban(request.iban),
        bank_name=request.bank_name,
        holder_name=request.holder_name,
        debit_day=request.debit_day,
        filename=filename,
        creditor_name=settings.creditor_name,
        return_address=RETURN_ADDRESS,
    )
