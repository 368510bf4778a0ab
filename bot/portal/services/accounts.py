"""Closing accounts: unsubscribing (the household may register again) and deactivation
``landlord.DEACTIVATION_MONTHS`` after the move-out date (an idempotent job)."""

from __future__ import annotations

from datetime import date

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import Conflict, NotFound
from bot.policy.landlord import DEACTIVATION_MONTHS
from bot.portal.models import LIVE_STATUSES, Account, AccountStatus, Household, utcnow
from bot.portal.services.outbox import enqueue_email
from bot.portal.services.tokens import revoke_all
from bot.settings import Settings

DEACTIVATION_DELAY = relativedelta(months=DEACTIVATION_MONTHS)


async def unsubscribe(*, session: AsyncSession, settings: Settings, account_id: int) -> Account:
    account = await session.get(Account, account_id)
    if account is None:
        raise NotFound(code="account_not_found")
    if account.status not in LIVE_STATUSES:
        raise Conflict(code="account_closed")
    account.status = AccountStatus.UNSUBSCRIBED
    account.closed_at = utcnow()
    await revoke_all(session=session, account_id=account.id)
    await enqueue_email(
        session=session,
        to=account.email,
        template="unsubscribed",
        portal_url=settings.public_base_url,
    )
    return account


def deactivation_date(move_out_date: date) -> date:
    return move_out_date + DEACTIVATION_DELAY


async def deactivate_moved_out(*, session: AsyncSession, today: date) -> int:
    """Deactivate live accounts of households that left ``DEACTIVATION_DELAY`` ago or more;
    return the count."""
    cutoff = today - DEACTIVATION_DELAY
    accounts = (
        await session.scalars(
            select(Account)
            .join(Household)
            .where(
                Account.status.in_(LIVE_STATUSES),
                Household.move_out_date.is_not(None),
                Household.move_out_date <= cutoff,
            )
        )
    ).all()
    for account in accounts:
        account.status = AccountStatus.DEACTIVATED
        account.closed_at = utcnow()
        await revoke_all(session=session, account_id=account.id)
    return len(accounts)
