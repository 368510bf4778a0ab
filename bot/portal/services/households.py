"""Finding a household from what a tenant types: client number plus signatory surname."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.portal.models import LIVE_STATUSES, Account, Household
from bot.portal.services.rules import surname_key


async def match_household(
    *, session: AsyncSession, client_number: str, surname: str
) -> Household | None:
    """The household only when both the number and the surname match (else ``None``)."""
    household = await session.scalar(
        select(Household).where(Household.client_number == client_number)
    )
    if household is None or household.signatory_key != surname_key(surname):
        return None
    return household


async def live_account_of(*, session: AsyncSession, household_id: int) -> Account | None:
    return await session.scalar(
        select(Account).where(
            Account.household_id == household_id, Account.status.in_(LIVE_STATUSES)
        )
    )


async def live_account_by_email(*, session: AsyncSession, email: str) -> Account | None:
    return await session.scalar(
        select(Account).where(Account.email == email, Account.status.in_(LIVE_STATUSES))
    )
