"""One-time link tokens: random, stored as SHA-256, single-use, short-lived, revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import TokenInvalid
from bot.portal.models import Account, OneTimeToken, TokenPurpose, utcnow


def digest(raw: str) -> str:
    """How every link secret (account links, upload and payment links) is stored."""
    return hashlib.sha256(raw.encode()).hexdigest()


async def issue_token(
    *, session: AsyncSession, account: Account, purpose: TokenPurpose, ttl: timedelta
) -> str:
    """Create a token and revoke earlier ones of the same purpose, so an old link stops working."""
    now = utcnow()
    await session.execute(
        update(OneTimeToken)
        .where(
            OneTimeToken.account_id == account.id,
            OneTimeToken.purpose == purpose,
            OneTimeToken.used_at.is_(None),
            OneTimeToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    raw = secrets.token_urlsafe(32)
    session.add(
        OneTimeToken(
            account_id=account.id,
            purpose=purpose,
            token_hash=digest(raw),
            created_at=now,
            expires_at=now + ttl,
        )
    )
    await session.flush()
    return raw


async def find_valid_token(
    *, session: AsyncSession, raw: str, purpose: TokenPurpose
) -> OneTimeToken:
    """The live token behind a link, or ``TokenInvalid`` (unknown, used, revoked or expired)."""
    if not raw or len(raw) > 200:
        raise TokenInvalid(code="token_invalid")
    token = await session.scalar(
        select(OneTimeToken).where(
            OneTimeToken.token_hash == digest(raw), OneTimeToken.purpose == purpose
        )
    )
    if token is None or token.revoked_at is not None:
        raise TokenInvalid(code="token_invalid")
    if token.used_at is not None:
        raise TokenInvalid(code="token_used")
    if token.expires_at <= utcnow():
        raise TokenInvalid(code="token_expired")
    return token


async def consume_token(*, session: AsyncSession, raw: str, purpose: TokenPurpose) -> Account:
    """Mark the token used and return its account; a second use fails."""
    token = await find_valid_token(session=session, raw=raw, purpose=purpose)
    token.used_at = utcnow()
    account = await session.get(Account, token.account_id)
    assert account is not None  # foreign key
    return account


async def revoke_all(*, session: AsyncSession, account_id: int) -> None:
    await session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.account_id == account_id, OneTimeToken.used_at.is_(None))
        .values(revoked_at=utcnow())
    )
