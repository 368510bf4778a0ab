"""Home insurance ("mettre à jour mon assurance habitation", help page, MON DOSSIER).

The update is prefilled from the certificate in force (even an expired one). The tenant gives
the insurer (from the list or typed freely), the policy number, the validity date and the
certificate as a PDF sent through an upload link. The submission waits for staff, who accept it
within ``landlord.VALIDATION_DELAY_HOURS`` or ask for more information; an email acknowledges
it. A daily job reminds tenants by email before their certificate expires, once per threshold
(``landlord.INSURANCE_REMINDER_DAYS_BEFORE``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.errors import Conflict, InvalidInput, NotFound
from bot.policy.french_dates import (
    check_validity_date,
    format_french_date,
    parse_validity_date,
    today_in_france,
)
from bot.policy.landlord import INSURANCE_REMINDER_DAYS_BEFORE, VALIDATION_DELAY_HOURS
from bot.portal.models import (
    IN_FORCE_STATUSES,
    Account,
    CertificateStatus,
    Household,
    InsuranceCertificate,
    StoredUpload,
    utcnow,
)
from bot.portal.services import uploads
from bot.portal.services.households import active_account_of, is_active_account_of
from bot.portal.services.insurers import normalise_insurer
from bot.portal.services.outbox import enqueue_email
from bot.settings import Settings

#: The purpose of the upload link the certificate is sent through (``POST /api/v1/uploads``).
UPLOAD_PURPOSE = "insurance_certificate"
UPLOAD_KINDS = frozenset({"pdf"})
_POLICY_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9 ./_-]{1,38}[A-Z0-9]$")


# --------------------------------------------------------------------------- reading


async def current_certificate(
    *, session: AsyncSession, household_id: int
) -> InsuranceCertificate | None:
    """The certificate in force with the latest validity date (expired or not): the prefill."""
    return await session.scalar(
        select(InsuranceCertificate)
        .where(
            InsuranceCertificate.household_id == household_id,
            InsuranceCertificate.status.in_(IN_FORCE_STATUSES),
        )
        .order_by(InsuranceCertificate.valid_until.desc(), InsuranceCertificate.id.desc())
        .limit(1)
    )


async def pending_submission(
    *, session: AsyncSession, household_id: int
) -> InsuranceCertificate | None:
    """The submission waiting for staff, if any (there is at most one)."""
    return await session.scalar(
        select(InsuranceCertificate).where(
            InsuranceCertificate.household_id == household_id,
            InsuranceCertificate.status == CertificateStatus.PENDING,
        )
    )


# --------------------------------------------------------------------------- input rules


def normalise_policy_number(text: str) -> str:
    """Upper-case policy number, spaces tidied: letters, digits and `` ./_-`` only."""
    policy = " ".join((text or "").split()).upper()
    if not _POLICY_NUMBER.match(policy):
        raise InvalidInput(
            code="invalid_policy_number",
            field="policy_number",
        )
    return policy


def _validity_date(valid_until: date | str, *, today: date) -> date:
    if isinstance(valid_until, date):
        return check_validity_date(valid_until, today=today)
    return parse_validity_date(valid_until, today=today)


async def _check_certificate_upload(
    *, session: AsyncSession, household_id: int, slot_id: int
) -> None:
    """The slot is the household's certificate link and holds a PDF not used before."""
    slot = await uploads.slot_for_purpose(
        session=session, slot_id=slot_id, household_id=household_id, purpose=UPLOAD_PURPOSE
    )
    if slot is None:
        raise InvalidInput(code="certificate_not_found", variant="slot", field="upload_slot_id")
    status = await uploads.slot_status(session=session, slot_id=slot.id)
    if status == "expired":
        raise Conflict(code="certificate_link_expired")
    if status != "received":
        raise Conflict(
            code="certificate_not_received",
        )
    kind = await session.scalar(select(StoredUpload.kind).where(StoredUpload.slot_id == slot.id))
    if kind != "pdf":
        raise InvalidInput(
            code="certificate_not_pdf",
            field="upload_slot_id",
        )
    used = await session.scalar(
        select(InsuranceCertificate.id).where(InsuranceCertificate.upload_slot_id == slot.id)
    )
    if used is not None:
        raise Conflict(code="certificate_already_used")


def _already_pending() -> Conflict:
    return Conflict(code="submission_pending", hours=VALIDATION_DELAY_HOURS)


# --------------------------------------------------------------------------- submitting


async def submit(
    *,
    session: AsyncSession,
    settings: Settings,
    household_id: int,
    insurer: str,
    policy_number: str,
    valid_until: date | str,
    upload_slot_id: int,
    today: date | None = None,
) -> InsuranceCertificate:
    """Record a certificate pending staff validation and acknowledge it by email.

    ``valid_until`` is a date or the text as typed ("31/12/2027", "31 décembre 2027").
    Raises ``InvalidInput`` (a field), ``Conflict`` (one already pending, certificate not
    received yet, link expired or already used) or ``NotFound`` (unknown household).
    """
    insurer = normalise_insurer(insurer)
    policy = normalise_policy_number(policy_number)
    until = _validity_date(valid_until, today=today or today_in_france())

    # Serialises the submissions of a household on PostgreSQL; the partial unique index on
    # pending certificates is the backstop (and SQLite's writers are serialised anyway).
    household = await session.scalar(
        select(Household).where(Household.id == household_id).with_for_update()
    )
    if household is None:
        raise NotFound(code="household_not_found")
    if await pending_submission(session=session, household_id=household_id):
        raise _already_pending()
    await _check_certificate_upload(
        session=session, household_id=household_id, slot_id=upload_slot_id
    )

    now = utcnow()
    certificate = InsuranceCertificate(
        household_id=household_id,
        insurer=insurer,
        policy_number=policy,
        valid_until=until,
        status=CertificateStatus.PENDING,
        upload_slot_id=upload_slot_id,
        created_at=now,
        submitted_at=now,
    )
    session.add(certificate)
    try:
        await session.flush()
    except IntegrityError as error:  # a concurrent submission won the race
        raise _already_pending() from error

    account = await active_account_of(session=session, household_id=household_id)
    if account is not None:
        await enqueue_email(
            session=session,
            to=account.email,
            template="insurance_received",
            insurer=certificate.insurer,
            policy_number=certificate.policy_number,
            valid_until=format_french_date(certificate.valid_until),
            delay_hours=VALIDATION_DELAY_HOURS,
        )
    return certificate


# --------------------------------------------------------------------------- reminders


def reminder_threshold(valid_until: date, *, today: date, days_before: Sequence[int]) -> int | None:
    """The tightest threshold reached (7 when 5 days are left of (30, 7)); ``None`` if none."""
    days_left = (valid_until - today).days
    reached = [days for days in days_before if 0 <= days_left <= days]
    return min(reached) if reached else None


def _reminder_candidates(today: date, horizon: date):  # type: ignore[no-untyped-def]
    """In-force certificates expiring by ``horizon``, of households still living there, with
    an active account, no newer certificate in force and no update waiting for staff."""
    certificate = InsuranceCertificate
    newer = aliased(InsuranceCertificate)
    waiting = aliased(InsuranceCertificate)
    return (
        select(certificate, Account.email)
        .join(Household, Household.id == certificate.household_id)
        .join(Account, is_active_account_of(Household.id))
        .where(
            certificate.status.in_(IN_FORCE_STATUSES),
            certificate.valid_until >= today,
            certificate.valid_until <= horizon,
            or_(Household.move_out_date.is_(None), Household.move_out_date > today),
            ~exists().where(
                newer.household_id == certificate.household_id,
                newer.status.in_(IN_FORCE_STATUSES),
                or_(
                    newer.valid_until > certificate.valid_until,
                    and_(newer.valid_until == certificate.valid_until, newer.id > certificate.id),
                ),
            ),
            ~exists().where(
                waiting.household_id == certificate.household_id,
                waiting.status == CertificateStatus.PENDING,
            ),
        )
        .order_by(certificate.id)
    )


async def send_expiry_reminders(
    *,
    session: AsyncSession,
    settings: Settings,
    today: date,
    days_before: Sequence[int] = INSURANCE_REMINDER_DAYS_BEFORE,
) -> int:
    """Email the tenants whose certificate expires within a threshold; return how many.

    Idempotent: a certificate is reminded once per threshold, whatever how often (or how
    concurrently) the job runs; a missed day sends one reminder, not one per threshold passed.
    """
    if not days_before:
        return 0
    horizon = today + timedelta(days=max(days_before))
    rows = (await session.execute(_reminder_candidates(today, horizon))).all()
    sent = 0
    for certificate, email in rows:
        threshold = reminder_threshold(
            certificate.valid_until, today=today, days_before=days_before
        )
        if threshold is None:
            continue
        # Claimed with a conditional update, so two runs at once cannot both send it.
        claimed = await session.execute(
            update(InsuranceCertificate)
            .where(
                InsuranceCertificate.id == certificate.id,
                or_(
                    InsuranceCertificate.reminder_days_before.is_(None),
                    InsuranceCertificate.reminder_days_before > threshold,
                ),
            )
            .values(reminder_days_before=threshold, reminder_sent_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:
            continue
        await enqueue_email(
            session=session,
            to=email,
            template="insurance_expiry_reminder",
            insurer=certificate.insurer,
            policy_number=certificate.policy_number,
            valid_until=format_french_date(certificate.valid_until),
            days_left=(certificate.valid_until - today).days,
            delay_hours=VALIDATION_DELAY_HOURS,
            portal_url=settings.public_base_url,
        )
        sent += 1
    return sent
