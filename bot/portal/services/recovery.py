"""Forgotten identifier and forgotten password, as the help page describes them.

The identifier (the account email) and reset links only ever travel by email; callers learn
nothing about whether the details matched, neither from the answer nor from its timing: details
that match nobody, or an address that had its emails (``mail_limits``), do the same work as
those that send one.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.policy.rules import (
    check_password,
    normalise_client_number,
    normalise_email,
    normalise_surname,
)
from bot.portal.models import Account, AccountStatus, TokenPurpose
from bot.portal.services import mail_limits
from bot.portal.services.households import live_account_by_email, live_account_of, match_household
from bot.portal.services.outbox import enqueue_email
from bot.portal.services.passwords import hash_password
from bot.portal.services.registration import answer_activation_request, limit_attempts
from bot.portal.services.tokens import consume_token, find_valid_token, revoke_all
from bot.settings import Settings


async def remind_identifier(
    *,
    session: AsyncSession,
    settings: Settings,
    client_number: str,
    surname: str,
    conversation_id: str = "",
) -> None:
    """Email the account's identifier to the account's own address when the details match."""
    number = normalise_client_number(client_number)
    name = normalise_surname(surname)
    await limit_attempts(
        session=session, settings=settings, conversation_id=conversation_id, client_number=number
    )
    household = await match_household(session=session, client_number=number, surname=name)
    household_id = household.id if household is not None else mail_limits.NO_ID
    account = await live_account_of(session=session, household_id=household_id)
    # Details that reach nobody are counted under the client number, for the same work.
    recipient = account.email if account is not None else f"client:{number}"
    await mail_limits.email_within_limits(
        session=session,
        settings=settings,
        recipient=recipient,
        reaches_someone=account is not None,
        template="identifier_reminder",
        email=recipient,
        pending=account is not None and account.status == AccountStatus.PENDING,
        portal_url=settings.public_base_url,
    )


async def request_password_reset(
    *, session: AsyncSession, settings: Settings, email: str, conversation_id: str = ""
) -> None:
    """Email a single-use link to choose a new password (or the activation link if pending)."""
    address = normalise_email(email)
    await limit_attempts(session=session, settings=settings, conversation_id=conversation_id)
    account = await live_account_by_email(session=session, email=address)
    if account is not None and account.status == AccountStatus.PENDING:
        await answer_activation_request(
            session=session, settings=settings, address=address, account=account
        )
    else:
        allowed = await mail_limits.may_email(session=session, settings=settings, recipient=address)
        await email_reset_link(
            session=session, settings=settings, account=account if allowed else None, to=address
        )


async def email_reset_link(
    *, session: AsyncSession, settings: Settings, account: Account | None, to: str
) -> None:
    """Email ``account`` a single-use link to choose a new password, at ``to``; with no
    account, the same work (``mail_limits.email_link``), sending nothing and revoking nothing."""
    await mail_limits.email_link(
        session=session,
        account=account,
        to=to,
        purpose=TokenPurpose.PASSWORD_RESET,
        ttl=timedelta(minutes=settings.reset_ttl_minutes),
        template="password_reset",
        url=f"{settings.public_base_url}/compte/nouveau-mot-de-passe",
        ttl_minutes=settings.reset_ttl_minutes,
    )


async def reset_password(
    *, session: AsyncSession, settings: Settings, token: str, password: str
) -> Account:
    """Set the new password chosen through a reset link; every other open link is revoked."""
    pending = await find_valid_token(
        session=session, raw=token, purpose=TokenPurpose.PASSWORD_RESET
    )
    account = await session.get(Account, pending.account_id)
    assert account is not None
    check_password(password, email=account.email)
    await consume_token(session=session, raw=token, purpose=TokenPurpose.PASSWORD_RESET)
    await revoke_all(session=session, account_id=account.id)
    account.password_hash = hash_password(password)
    await enqueue_email(
        session=session,
        to=account.email,
        template="password_changed",
        portal_url=settings.public_base_url,
    )
    return account
