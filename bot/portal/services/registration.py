"""Registration to the tenant extranet, activation, and resending the activation link.

Rules from the help page: one registration per household; it needs the 8-digit client number,
the surname of the lease's main signatory and a valid email; the emailed link must be followed to
activate; a confirmation email follows. Whatever the outcome, the caller gets the same answer, so
the chat never reveals whether a client number, surname or email exists: the outcome is told by
email to the address given. Emails to one address are limited (``mail_limits``): past the limit
nothing is sent nor changed, with the same answer.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import InvalidInput
from bot.policy.rules import (
    check_password,
    normalise_client_number,
    normalise_email,
    normalise_surname,
)
from bot.portal.models import Account, AccountStatus, Household, TokenPurpose, utcnow
from bot.portal.services import mail_limits, ratelimit
from bot.portal.services.households import (
    live_account_by_email,
    live_account_of,
    match_household,
)
from bot.portal.services.outbox import enqueue_email
from bot.portal.services.passwords import hash_password
from bot.portal.services.tokens import consume_token, find_valid_token
from bot.settings import Settings


async def limit_attempts(
    *, session: AsyncSession, settings: Settings, conversation_id: str, client_number: str = ""
) -> None:
    """Rate-limit identity guesses per conversation and per client number (the landlord's
    ``ATTEMPTS_PER_CONVERSATION`` and ``ATTEMPTS_PER_CLIENT_NUMBER``, as configured)."""
    if conversation_id:
        count, window = settings.attempts_per_conversation
        await ratelimit.hit(
            session=session, key=f"conversation:{conversation_id}", limit=count, window=window
        )
    if client_number:
        count, window = settings.attempts_per_client_number
        await ratelimit.hit(
            session=session, key=f"client:{client_number}", limit=count, window=window
        )


async def _email_activation(
    *, session: AsyncSession, settings: Settings, account: Account | None, to: str
) -> None:
    """The activation link of ``account``, emailed to ``to``; with no account, its shadow."""
    await mail_limits.email_link(
        session=session,
        account=account,
        to=to,
        purpose=TokenPurpose.ACTIVATION,
        ttl=timedelta(hours=settings.activation_ttl_hours),
        template="activation",
        url=f"{settings.public_base_url}/compte/activer",
        ttl_hours=settings.activation_ttl_hours,
    )


def _moved_out(household: Household) -> bool:
    return household.move_out_date is not None and household.move_out_date <= utcnow().date()


async def register(
    *,
    session: AsyncSession,
    settings: Settings,
    client_number: str,
    surname: str,
    email: str,
    conversation_id: str = "",
) -> None:
    """Start a registration; the outcome is emailed to ``email``, never returned."""
    number = normalise_client_number(client_number)
    name = normalise_surname(surname)
    address = normalise_email(email)
    await limit_attempts(
        session=session, settings=settings, conversation_id=conversation_id, client_number=number
    )
    if not await mail_limits.may_email(session=session, settings=settings, recipient=address):
        return
    household = await match_household(session=session, client_number=number, surname=name)
    if household is None or _moved_out(household):
        await enqueue_email(session=session, to=address, template="registration_unmatched")
        return
    existing = await live_account_of(session=session, household_id=household.id)
    if existing is not None:
        if existing.status == AccountStatus.PENDING and existing.email == address:
            await _email_activation(
                session=session, settings=settings, account=existing, to=existing.email
            )
        else:
            await enqueue_email(
                session=session,
                to=address,
                template="registration_exists",
                portal_url=settings.public_base_url,
            )
        return
    if await live_account_by_email(session=session, email=address) is not None:
        await enqueue_email(
            session=session,
            to=address,
            template="registration_email_taken",
            portal_url=settings.public_base_url,
        )
        return
    account = Account(household_id=household.id, email=address, status=AccountStatus.PENDING)
    session.add(account)
    await session.flush()
    await _email_activation(session=session, settings=settings, account=account, to=address)


async def resend_activation(
    *, session: AsyncSession, settings: Settings, email: str, conversation_id: str = ""
) -> None:
    """Send a fresh activation link (the previous one stops working) if the account waits for it."""
    address = normalise_email(email)
    await limit_attempts(session=session, settings=settings, conversation_id=conversation_id)
    account = await live_account_by_email(session=session, email=address)
    await answer_activation_request(
        session=session, settings=settings, address=address, account=account
    )


async def answer_activation_request(
    *, session: AsyncSession, settings: Settings, address: str, account: Account | None
) -> None:
    """A fresh activation link if ``account`` (the live account of ``address``) waits for it, a
    reminder that it is active otherwise, nothing if there is none or ``address`` had its
    emails. Each case does the same work: a token (or its shadow), an email (or its shadow)."""
    allowed = await mail_limits.may_email(session=session, settings=settings, recipient=address)
    if not allowed or account is None:
        await _email_activation(session=session, settings=settings, account=None, to=address)
    elif account.status == AccountStatus.PENDING:
        await _email_activation(
            session=session, settings=settings, account=account, to=account.email
        )
    else:
        await mail_limits.shadow_token(session=session, purpose=TokenPurpose.ACTIVATION)
        await enqueue_email(
            session=session,
            to=address,
            template="already_active",
            portal_url=settings.public_base_url,
        )


async def activate(
    *, session: AsyncSession, settings: Settings, token: str, password: str
) -> Account:
    """Follow the activation link: choose a password, activate, send the confirmation."""
    pending = await find_valid_token(session=session, raw=token, purpose=TokenPurpose.ACTIVATION)
    account = await session.get(Account, pending.account_id)
    assert account is not None
    check_password(password, email=account.email)
    if account.status != AccountStatus.PENDING:
        raise InvalidInput(code="not_pending")
    await consume_token(session=session, raw=token, purpose=TokenPurpose.ACTIVATION)
    account.password_hash = hash_password(password)
    account.status = AccountStatus.ACTIVE
    account.activated_at = utcnow()
    await enqueue_email(
        session=session,
        to=account.email,
        template="registration_confirmed",
        portal_url=settings.public_base_url,
        email=account.email,
    )
    return account
