"""Staff decisions on home-insurance certificates: accept (it becomes the one in force), reject
with a reason, or ask for more. The help page promises "acceptation et mise à jour dans un délai
de 48h" (``VALIDATION_DELAY_HOURS``) and "une demande d'information complémentaire" when
incomplete. The steps every decision shares are in ``decisions.py``.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import NotFound
from bot.policy.french_dates import format_french_date
from bot.policy.landlord import VALIDATION_DELAY_HOURS
from bot.portal.models import (
    IN_FORCE_STATUSES,
    CertificateStatus,
    Household,
    InsuranceCertificate,
)
from bot.portal.services.households import active_account_of
from bot.portal.services.outbox import enqueue_email
from bot.settings import Settings
from bot.staff.services.decisions import (
    CERTIFICATE_TARGET,
    acting_staff,
    audit_decision,
    claim_decision,
    clean_note,
)

INSURANCE_ACCEPTED = "insurance_accepted"
INSURANCE_REJECTED = "insurance_rejected"
INSURANCE_INFO_REQUESTED = "insurance_info_requested"


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


async def submitted_certificate(session: AsyncSession, certificate_id: int) -> InsuranceCertificate:
    certificate = await session.get(InsuranceCertificate, certificate_id)
    # Certificates on file (imported from the landlord's records) were never submitted.
    if certificate is None or certificate.submitted_at is None:
        raise NotFound(code="certificate_not_found")
    return certificate
