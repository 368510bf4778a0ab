"""Erase one household on request (RGPD art. 17), keeping only what a law obliges us to keep.

Erased:
- its conversations, everywhere (``conversations.forget_conversations``): every conversation a
  verification, a grant or the console's index ties to the household;
- its extranet logins: address and password hash replaced (the rows stay, payments name them),
  links not yet used, rate-limit counters;
- the copies of emails sent to its addresses, and those not yet sent;
- requests that led nowhere and their files: direct-debit requests refused or questioned,
  certificates refused or questioned, files never attached to anything.

Kept, each for a reason the page states (``KEPT_REASONS``):
- the household and its leases: the tenancy itself, managed by the landlord's own systems;
- payments: accounting records (Code de commerce, art. L123-22: 10 years);
- direct-debit mandates waiting for their signature, active or replaced: a debit can be
  disputed for 13 months (Code monétaire et financier, art. L133-24);
- insurance certificates in force, replaced or awaiting validation: the landlord must be able
  to show the home was insured (loi du 6 juillet 1989, art. 7 g);
- the staff audit log, which records this erasure.

``erasure_plan`` counts what ``erase_household`` would do, for the confirmation page.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from bot.policy.rules import normalise_client_number
from bot.portal.models import (
    Account,
    AccountStatus,
    CertificateStatus,
    ConversationGrant,
    ConversationSummary,
    DirectDebitDraft,
    DirectDebitRequest,
    DirectDebitStatus,
    Household,
    InsuranceCertificate,
    Lease,
    OneTimeToken,
    OutboxAttachment,
    OutboxEmail,
    Payment,
    RateLimitCounter,
    StoredUpload,
    UploadSlot,
    VerificationChallenge,
    utcnow,
)
from bot.portal.models.direct_debit import direct_debit_leases
from bot.portal.services.mail_limits import recipient_keys
from bot.portal.services.tenant_login import email_key
from bot.settings import Settings
from bot.staff.errors import HouseholdNotFound
from bot.staff.retention.conversations import forget_conversations
from bot.staff.services import audit

HOUSEHOLD_ERASED = "household_erased"
#: Requests that led nowhere: nothing obliges the landlord to keep them.
_DROPPED_DEBITS = (DirectDebitStatus.REJECTED, DirectDebitStatus.INFO_REQUESTED)
_DROPPED_CERTIFICATES = (CertificateStatus.REJECTED, CertificateStatus.INFO_REQUESTED)


@dataclass(frozen=True)
class ErasurePlan:
    """What erasing the household deletes, and what stays (counts)."""

    client_number: str
    surname: str
    conversations: int
    logins: int
    emails: int
    requests: int
    files: int
    kept_leases: int
    kept_payments: int
    kept_mandates: int
    kept_certificates: int

    def as_details(self) -> dict[str, int]:
        """The audit entry's facts: counts only, nothing personal."""
        return {
            "conversations": self.conversations,
            "comptes_extranet": self.logins,
            "emails": self.emails,
            "demandes": self.requests,
            "fichiers": self.files,
            "paiements_conserves": self.kept_payments,
            "mandats_conserves": self.kept_mandates,
            "attestations_conservees": self.kept_certificates,
        }


@dataclass
class _Scope:
    household: Household
    conversation_ids: list[str]
    account_ids: list[int]
    addresses: list[str]
    debit_ids: list[int]
    certificate_ids: list[int]
    upload_ids: list[int]
    slot_ids: list[int]
    email_ids: list[int]


async def _household(session: AsyncSession, client_number: str) -> Household:
    number = normalise_client_number(client_number)
    household = await session.scalar(select(Household).where(Household.client_number == number))
    if household is None:
        raise HouseholdNotFound(variant="client_number")
    return household


async def _ids(session: AsyncSession, query: Select) -> list:
    return list(await session.scalars(query))


async def _union(session: AsyncSession, *queries: Select) -> set:
    """Every value the queries find (one column each), once."""
    found: set = set()
    for query in queries:
        found.update(await session.scalars(query))
    return found


async def _scope(session: AsyncSession, household: Household) -> _Scope:
    account_ids = await _ids(
        session, select(Account.id).where(Account.household_id == household.id)
    )
    # Every conversation tied to the household; deleting them by id also deletes these rows.
    conversation_ids = await _union(
        session,
        select(ConversationGrant.conversation_id).where(
            ConversationGrant.household_id == household.id
        ),
        select(VerificationChallenge.conversation_id).where(
            VerificationChallenge.account_id.in_(account_ids)
        ),
        select(ConversationSummary.conversation_id).where(
            ConversationSummary.client_number == household.client_number
        ),
        select(DirectDebitDraft.conversation_id).where(
            DirectDebitDraft.household_id == household.id
        ),
    )
    addresses = await _union(
        session,
        select(func.lower(Account.email)).where(Account.id.in_(account_ids)),
        select(func.lower(OneTimeToken.new_email)).where(
            OneTimeToken.account_id.in_(account_ids), OneTimeToken.new_email.is_not(None)
        ),
        select(func.lower(DirectDebitRequest.email)).where(
            DirectDebitRequest.household_id == household.id
        ),
    )
    debit_ids = await _ids(
        session,
        select(DirectDebitRequest.id).where(
            DirectDebitRequest.household_id == household.id,
            DirectDebitRequest.status.in_(_DROPPED_DEBITS),
        ),
    )
    certificate_ids = await _ids(
        session,
        select(InsuranceCertificate.id).where(
            InsuranceCertificate.household_id == household.id,
            InsuranceCertificate.status.in_(_DROPPED_CERTIFICATES),
        ),
    )
    kept_ribs = select(DirectDebitRequest.rib_upload_id).where(
        DirectDebitRequest.household_id == household.id,
        DirectDebitRequest.id.not_in(debit_ids),
    )
    kept_slots = select(InsuranceCertificate.upload_slot_id).where(
        InsuranceCertificate.household_id == household.id,
        InsuranceCertificate.id.not_in(certificate_ids),
        InsuranceCertificate.upload_slot_id.is_not(None),
    )
    upload_ids = await _ids(
        session,
        select(StoredUpload.id).where(
            StoredUpload.household_id == household.id,
            StoredUpload.id.not_in(kept_ribs),
            StoredUpload.slot_id.not_in(kept_slots),
        ),
    )
    kept_upload_slots = select(StoredUpload.slot_id).where(
        StoredUpload.household_id == household.id, StoredUpload.id.not_in(upload_ids)
    )
    slot_ids = await _ids(
        session,
        select(UploadSlot.id).where(
            UploadSlot.household_id == household.id,
            UploadSlot.id.not_in(kept_slots),
            UploadSlot.id.not_in(kept_upload_slots),
        ),
    )
    email_ids = await _ids(
        session,
        select(OutboxEmail.id).where(func.lower(OutboxEmail.to_address).in_(sorted(addresses))),
    )
    return _Scope(
        household=household,
        conversation_ids=sorted(conversation_ids),
        account_ids=account_ids,
        addresses=sorted(addresses),
        debit_ids=debit_ids,
        certificate_ids=certificate_ids,
        upload_ids=upload_ids,
        slot_ids=slot_ids,
        email_ids=email_ids,
    )


async def _count(session: AsyncSession, query) -> int:
    return (await session.scalar(select(func.count()).select_from(query.subquery()))) or 0


async def _plan(session: AsyncSession, scope: _Scope) -> ErasurePlan:
    household = scope.household
    return ErasurePlan(
        client_number=household.client_number,
        surname=household.signatory_surname,
        conversations=len(scope.conversation_ids),
        logins=len(scope.account_ids),
        emails=len(scope.email_ids),
        requests=len(scope.debit_ids) + len(scope.certificate_ids),
        files=len(scope.upload_ids),
        kept_leases=await _count(
            session, select(Lease.id).where(Lease.household_id == household.id)
        ),
        kept_payments=await _count(
            session, select(Payment.id).where(Payment.household_id == household.id)
        ),
        kept_mandates=await _count(
            session,
            select(DirectDebitRequest.id).where(
                DirectDebitRequest.household_id == household.id,
                DirectDebitRequest.id.not_in(scope.debit_ids),
            ),
        ),
        kept_certificates=await _count(
            session,
            select(InsuranceCertificate.id).where(
                InsuranceCertificate.household_id == household.id,
                InsuranceCertificate.id.not_in(scope.certificate_ids),
            ),
        ),
    )


async def erasure_plan(*, session: AsyncSession, client_number: str) -> ErasurePlan:
    """What erasing this household would delete and keep; ``HouseholdNotFound`` if none."""
    household = await _household(session, client_number)
    return await _plan(session, await _scope(session, household))


def _erased_address(account_id: int) -> str:
    """Where an erased login pointed: a reserved domain (RFC 2606), never delivered."""
    return f"compte-efface-{account_id}@efface.invalid"


async def _erase_portal_rows(session: AsyncSession, scope: _Scope) -> None:
    household = scope.household
    await session.execute(
        delete(direct_debit_leases).where(direct_debit_leases.c.request_id.in_(scope.debit_ids))
    )
    await session.execute(
        delete(DirectDebitRequest).where(DirectDebitRequest.id.in_(scope.debit_ids))
    )
    await session.execute(
        delete(InsuranceCertificate).where(InsuranceCertificate.id.in_(scope.certificate_ids))
    )
    await session.execute(delete(StoredUpload).where(StoredUpload.id.in_(scope.upload_ids)))
    await session.execute(delete(UploadSlot).where(UploadSlot.id.in_(scope.slot_ids)))
    await session.execute(
        delete(OutboxAttachment).where(OutboxAttachment.email_id.in_(scope.email_ids))
    )
    await session.execute(delete(OutboxEmail).where(OutboxEmail.id.in_(scope.email_ids)))
    await session.execute(
        delete(OneTimeToken).where(OneTimeToken.account_id.in_(scope.account_ids))
    )
    keys = [f"client:{household.client_number}"]
    keys += [f"account:{account_id}" for account_id in scope.account_ids]
    keys += [f"conversation:{conversation_id}" for conversation_id in scope.conversation_ids]
    keys += [f"login-email:{email_key(address)}" for address in scope.addresses]
    keys += [key for address in scope.addresses for key in recipient_keys(address)]
    await session.execute(delete(RateLimitCounter).where(RateLimitCounter.key.in_(keys)))
    now = utcnow()
    for account in await session.scalars(select(Account).where(Account.id.in_(scope.account_ids))):
        account.email = _erased_address(account.id)
        account.password_hash = None
        if account.status != AccountStatus.DEACTIVATED:
            account.status = AccountStatus.UNSUBSCRIBED  # the household may register again
        account.closed_at = account.closed_at or now


async def erase_household(
    *,
    session: AsyncSession,
    settings: Settings,
    client_number: str,
    actor_id: int,
    ip: str | None,
) -> ErasurePlan:
    """Erase the household (in ``session``, committed by the caller, after the tracker store's
    own transaction) and audit it; returns what was erased and kept."""
    household = await _household(session, client_number)
    scope = await _scope(session, household)
    done = await _plan(session, scope)
    await forget_conversations(
        session=session, settings=settings, conversation_ids=scope.conversation_ids
    )
    await _erase_portal_rows(session, scope)
    await audit.record(
        session=session,
        staff_id=actor_id,
        action=HOUSEHOLD_ERASED,
        target_type="household",
        target_id=household.client_number,
        details=done.as_details(),
        ip=ip,
    )
    return done
