"""Account changes a verified conversation may ask for: a new identifier (the login email), a
new password, unsubscribing.

The chat's grant proves who the tenant is, not that a new address reaches them: a new
identifier only takes effect once the link emailed to the *new* address is followed, and then
the old address is told. The link opens a page with a button (mail scanners prefetch links, a
bare GET must not change anything). The chat gets the same answer whether or not the new
address already belongs to another household (a token is drawn either way, so the timing hardly
differs); that is told by email to that address only. Emails to one address are limited
(``mail_limits``): past the limit nothing is sent nor revoked, with the same answer.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import Conflict, InvalidInput, NotFound, TokenInvalid
from bot.policy.landlord import IDENTIFIER_CHANGE_LINK_HOURS
from bot.policy.rules import normalise_email
from bot.portal.models import Account, AccountStatus, OneTimeToken, TokenPurpose
from bot.portal.services import accounts, mail_limits, ratelimit, recovery, verification
from bot.portal.services.households import live_account_by_email
from bot.portal.services.outbox import enqueue_email
from bot.portal.services.registration import limit_attempts
from bot.portal.services.tokens import (
    consume_token,
    digest,
    find_valid_token,
    issue_token,
    revoke_all,
)
from bot.settings import Settings

#: Long enough for a tenant to find the email in a mailbox they rarely open.
IDENTIFIER_CHANGE_TTL = timedelta(hours=IDENTIFIER_CHANGE_LINK_HOURS)
IDENTIFIER_CHANGE_PATH = "/compte/confirmer-identifiant"


def mask_email(address: str) -> str:
    """``c***@example.org``: enough for the tenant to recognise the address, not to read it."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


async def _active_account(*, session: AsyncSession, account_id: int) -> Account:
    account = await session.get(Account, account_id)
    if account is None:
        raise NotFound(code="account_not_found")
    if account.status != AccountStatus.ACTIVE:
        raise Conflict(code="account_not_active")
    return account


async def _limit(
    *, session: AsyncSession, settings: Settings, conversation_id: str, account: Account
) -> None:
    """The identity routes' per-conversation limit, plus one per account: a tenant verified in
    several conversations still cannot use the portal to flood an address with emails."""
    await limit_attempts(session=session, settings=settings, conversation_id=conversation_id)
    count, window = settings.attempts_per_client_number
    await ratelimit.hit(session=session, key=f"account:{account.id}", limit=count, window=window)


def _new_address(raw: str) -> str:
    """The rules of ``normalise_email``, reported against the field the API names."""
    try:
        return normalise_email(raw)
    except InvalidInput as error:
        raise InvalidInput(
            code=error.code, variant=error.variant, field="new_email", **error.values
        ) from error


async def request_identifier_change(
    *,
    session: AsyncSession,
    settings: Settings,
    account_id: int,
    new_email: str,
    conversation_id: str = "",
) -> str:
    """Email a confirmation link to ``new_email`` (or, if another live account uses it, a
    notice instead); return the masked address, which is the same answer either way."""
    address = _new_address(new_email)
    account = await _active_account(session=session, account_id=account_id)
    if address == account.email:
        raise InvalidInput(code="same_email", field="new_email")
    await _limit(
        session=session, settings=settings, conversation_id=conversation_id, account=account
    )
    taken = await live_account_by_email(session=session, email=address) is not None
    if not await mail_limits.may_email(session=session, settings=settings, recipient=address):
        await _shadow_change_link(session=session, settings=settings, to=address)
        return mask_email(address)
    if taken:
        await mail_limits.shadow_token(session=session, purpose=TokenPurpose.IDENTIFIER_CHANGE)
        await enqueue_email(
            session=session,
            to=address,
            template="identifier_change_taken",
            portal_url=settings.public_base_url,
        )
        return mask_email(address)
    raw = await issue_token(
        session=session,
        account=account,
        purpose=TokenPurpose.IDENTIFIER_CHANGE,
        ttl=IDENTIFIER_CHANGE_TTL,
    )
    token = await session.scalar(select(OneTimeToken).where(OneTimeToken.token_hash == digest(raw)))
    assert token is not None  # just issued
    token.new_email = address
    await enqueue_email(
        session=session,
        to=address,
        template="identifier_change",
        link=f"{settings.public_base_url}{IDENTIFIER_CHANGE_PATH}?jeton={raw}",
        ttl_hours=IDENTIFIER_CHANGE_LINK_HOURS,
    )
    return mask_email(address)


async def _shadow_change_link(*, session: AsyncSession, settings: Settings, to: str) -> None:
    """The work of sending an identifier-change link, sending nothing and revoking nothing."""
    await mail_limits.email_link(
        session=session,
        account=None,
        to=to,
        purpose=TokenPurpose.IDENTIFIER_CHANGE,
        ttl=IDENTIFIER_CHANGE_TTL,
        template="identifier_change",
        url=f"{settings.public_base_url}{IDENTIFIER_CHANGE_PATH}",
        ttl_hours=IDENTIFIER_CHANGE_LINK_HOURS,
    )


async def pending_identifier_change(*, session: AsyncSession, token: str) -> OneTimeToken:
    """The live identifier-change link behind ``token``; reading it consumes nothing."""
    pending = await find_valid_token(
        session=session, raw=token, purpose=TokenPurpose.IDENTIFIER_CHANGE
    )
    if not pending.new_email:
        raise TokenInvalid(code="token_invalid")
    return pending


async def confirm_identifier_change(
    *, session: AsyncSession, settings: Settings, token: str
) -> Account:
    """Make the pending address the login, unless another household took it meanwhile
    (``Conflict("email_taken")``, the link stays usable); tell both addresses."""
    pending = await pending_identifier_change(session=session, token=token)
    new_email = pending.new_email
    account = await session.get(Account, pending.account_id)
    assert account is not None  # foreign key
    if account.status != AccountStatus.ACTIVE:
        raise TokenInvalid(code="token_invalid")
    if await live_account_by_email(session=session, email=new_email) is not None:
        raise Conflict(
            code="email_taken",
        )
    await consume_token(session=session, raw=token, purpose=TokenPurpose.IDENTIFIER_CHANGE)
    # Links already mailed to the old address (a password reset) must not outlive it.
    await revoke_all(session=session, account_id=account.id)
    old_email, account.email = account.email, new_email
    await enqueue_email(
        session=session,
        to=old_email,
        template="identifier_changed_old",
        new_email_masked=mask_email(new_email),
    )
    await enqueue_email(
        session=session,
        to=new_email,
        template="identifier_changed_new",
        email=new_email,
        portal_url=settings.public_base_url,
    )
    return account


async def request_password_change(
    *, session: AsyncSession, settings: Settings, account_id: int, conversation_id: str = ""
) -> str:
    """Email the forgotten-password link to the account's own address (the new-password page
    does the rest); return the masked address. The chat never carries a password."""
    account = await _active_account(session=session, account_id=account_id)
    await _limit(
        session=session, settings=settings, conversation_id=conversation_id, account=account
    )
    allowed = await mail_limits.may_email(
        session=session, settings=settings, recipient=account.email
    )
    await recovery.email_reset_link(
        session=session, settings=settings, account=account if allowed else None, to=account.email
    )
    return mask_email(account.email)


async def unsubscribe_conversation(
    *, session: AsyncSession, settings: Settings, account_id: int, conversation_id: str
) -> Account:
    """Unsubscribe the verified account, then end the conversation's verification: the grant
    would die with the account anyway, ending it says so at once."""
    account = await accounts.unsubscribe(session=session, settings=settings, account_id=account_id)
    await verification.end_verification(session=session, conversation_id=conversation_id)
    return account
