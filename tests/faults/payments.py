"""A payment link of a demo tenant, and the platform's signed notification of its success.

The link is made as the chat makes it (``create_payment`` on the portal's database); its page,
opened through nginx, holds the signed form a browser would post to the platform; the
notification is what the platform would send back (the development sandbox's
``result_fields``, signed with the production run's shop key).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

import httpx
from sqlalchemy import select

from bot.portal.api.sandbox import result_fields
from bot.portal.db import create_engine, session_factory
from bot.portal.models.account import Account
from bot.portal.models.household import Household, Lease
from bot.portal.models.payment import Payment
from bot.portal.services.payments import create_payment, payment_url
from bot.runner.stack import run_async
from bot.settings import Settings

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


@dataclass(frozen=True)
class Notification:
    reference: str
    lease: str
    amount: Decimal
    fields: dict[str, str]


def accepted_notification(
    settings: Settings, portal_entry: str, client_number: str, lease: str, amount: str
) -> Notification:
    """A new payment of ``amount`` on ``lease`` and the platform's "authorised" for it."""

    async def issue() -> tuple[str, str, Decimal]:
        engine = create_engine(settings.resolved_database_url)
        try:
            async with session_factory(engine).begin() as session:
                household = await session.scalar(
                    select(Household).where(Household.client_number == client_number)
                )
                account = await session.scalar(
                    select(Account).where(Account.household_id == household.id)
                )
                issued = await create_payment(
                    session=session,
                    settings=settings,
                    household_id=household.id,
                    account_id=account.id,
                    lease_reference=lease,
                    amount=amount,
                )
                return issued.payment.reference, issued.token, issued.payment.amount
        finally:
            await engine.dispose()

    reference, token, value = run_async(issue)
    # The page behind the link, through nginx as the tenant's browser opens it.
    link = payment_url(settings, token).replace(settings.public_base_url, portal_entry)
    page = httpx.get(link, headers={"Accept": "text/html"}, timeout=30, trust_env=False)
    page.raise_for_status()
    ipn, _ = result_fields(dict(HIDDEN.findall(page.text)), "AUTHORISED", settings.systempay_key)
    return Notification(reference, lease, value, ipn)


def lease_balance(settings: Settings, lease: str) -> Decimal:
    async def read() -> Decimal:
        engine = create_engine(settings.resolved_database_url)
        try:
            async with session_factory(engine)() as session:
                return await session.scalar(
                    select(Lease.balance_due).where(Lease.reference == lease)
                )
        finally:
            await engine.dispose()

    return run_async(read)


def payment_row(settings: Settings, reference: str) -> tuple[str, int]:
    """The payment's status and how many notifications it received."""

    async def read() -> tuple[str, int]:
        engine = create_engine(settings.resolved_database_url)
        try:
            async with session_factory(engine)() as session:
                payment = await session.scalar(
                    select(Payment).where(Payment.reference == reference)
                )
                return payment.status.value, payment.notification_count
        finally:
            await engine.dispose()

    return run_async(read)
