"""A payment link of a demo tenant, and the platform's signed notification of its success.

The link is made as the chat makes it (``create_payment`` on the portal's database); its page,
opened through nginx, holds the signed form a browser would post to the platform; the
notification is what the platform would send back (the development sandbox's
``result_fields``, signed with the production run's shop key).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.portal.api.sandbox import result_fields
from bot.portal.db import create_engine, session_factory
from bot.portal.models.account import Account
from bot.portal.models.household import Household, Lease
from bot.portal.models.payment import Payment
from bot.portal.services.payments import create_payment, payment_url
from bot.runner.stack import run_async
from bot.settings import Settings
from tests.e2e.conftest import form_fields

T = TypeVar("T")


@dataclass(frozen=True)
class Notification:
    reference: str
    lease: str
    amount: Decimal
    fields: dict[str, str]


def in_portal(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """``work`` in one transaction on the portal's database, from sync code."""

    async def run() -> T:
        engine = create_engine(settings.resolved_database_url)
        try:
            async with session_factory(engine).begin() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return run_async(run)


def accepted_notification(
    settings: Settings, portal_entry: str, client_number: str, lease: str, amount: str
) -> Notification:
    """A new payment of ``amount`` on ``lease`` and the platform's "authorised" for it."""

    async def issue(session: AsyncSession) -> tuple[str, str, Decimal]:
        household = await session.scalar(
            select(Household).where(Household.client_number == client_number)
        )
        account = await session.scalar(select(Account).where(Account.household_id == household.id))
        issued = await create_payment(
            session=session,
            settings=settings,
            household_id=household.id,
            account_id=account.id,
            lease_reference=lease,
            amount=amount,
        )
        return issued.payment.reference, issued.token, issued.payment.amount

    reference, token, value = in_portal(settings, issue)
    # The page behind the link, through nginx as the tenant's browser opens it.
    link = payment_url(settings, token).replace(settings.public_base_url, portal_entry)
    page = httpx.get(link, headers={"Accept": "text/html"}, timeout=30, trust_env=False)
    page.raise_for_status()
    ipn, _ = result_fields(form_fields(page.text), "AUTHORISED", settings.systempay_key)
    return Notification(reference, lease, value, ipn)


def lease_balance(settings: Settings, lease: str) -> Decimal:
    async def read(session: AsyncSession) -> Decimal:
        return await session.scalar(select(Lease.balance_due).where(Lease.reference == lease))

    return in_portal(settings, read)


def payment_row(settings: Settings, reference: str) -> tuple[str, int]:
    """The payment's status and how many notifications it received."""

    async def read(session: AsyncSession) -> tuple[str, int]:
        payment = await session.scalar(select(Payment).where(Payment.reference == reference))
        return payment.status.value, payment.notification_count

    return in_portal(settings, read)
