"""Finding a household from what a tenant types (client number plus signatory surname), and
the account of a household: its live one (pending or active) or its active one."""

from __future__ import annotations

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import ColumnElement

from bot.policy.rules import surname_key
from bot.portal.models import LIVE_STATUSES, Account, AccountStatus, Household


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


def is_active_account_of(household_id: int | ColumnElement[int]) -> ColumnElement[bool]:
    """The condition "an ACTIVE account of ``household_id``" (a value, or a column to join on)."""
    return and_(Account.household_id == household_id, Account.status == AccountStatus.ACTIVE)


async def active_account_of(*, session: AsyncSession, household_id: int) -> Account | None:
    """The household's activated account, the one emails and verification reach; else ``None``."""
    return await session.scalar(select(Account).where(is_active_account_of(household_id)))


async def active_account_by_email(*, session: AsyncSession, email: str) -> Account | None:
    """The activated account whose login is ``email`` (already normalised); else ``None``."""
    return await session.scalar(
        select(Account).where(Account.email == email, Account.status == AccountStatus.ACTIVE)
    )
