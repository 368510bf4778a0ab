"""Verifying a conversation before account data is shown or changed.

Two ways in: a code emailed to the account's address (digits, lifetime and wrong entries:
``bot/policy/landlord.py``, the last two through the settings; stored as an HMAC keyed with the
portal's secret), or a signed, short-lived session token minted by the logged-in tenant page
that hosts the widget. Either one creates a grant for the conversation, valid for a bounded
time. Starting a verification answers the same, with the same work, whether
or not the details match an account; codes to one address are limited (``mail_limits``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import NotAuthenticated, TokenInvalid
from bot.policy.landlord import VERIFICATION_CODE_DIGITS
from bot.policy.rules import normalise_client_number, normalise_email, normalise_surname
from bot.portal.models import (
    Account,
    AccountStatus,
    ConversationGrant,
    VerificationChallenge,
    utcnow,
)
from bot.portal.services import mail_limits
from bot.portal.services.households import (
    active_account_by_email,
    active_account_of,
    match_household,
)
from bot.portal.services.registration import limit_attempts
from bot.settings import Settings


def _code_hash(settings: Settings, conversation_id: str, code: str) -> str:
    message = f"{conversation_id}:{code}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


async def _find_account(
    *, session: AsyncSession, email: str, client_number: str, surname: str
) -> Account | None:
    if email:
        return await active_account_by_email(session=session, email=normalise_email(email))
    household = await match_household(
        session=session,
        client_number=normalise_client_number(client_number),
        surname=normalise_surname(surname),
    )
    household_id = household.id if household is not None else mail_limits.NO_ID
    return await active_account_of(session=session, household_id=household_id)


async def start_verification(
    *,
    session: AsyncSession,
    settings: Settings,
    conversation_id: str,
    email: str = "",
    client_number: str = "",
    surname: str = "",
) -> None:
    """Email a code to the account's address when the details match an active account."""
    if not conversation_id:
        raise NotAuthenticated(code="no_conversation")
    number = normalise_client_number(client_number) if not email else ""
    await limit_attempts(
        session=session, settings=settings, conversation_id=conversation_id, client_number=number
    )
    account = await _find_account(
        session=session, email=email, client_number=client_number, surname=surname
    )
    now = utcnow()
    await session.execute(
        update(VerificationChallenge)
        .where(
            VerificationChallenge.conversation_id == conversation_id,
            VerificationChallenge.closed_at.is_(None),
        )
        .values(closed_at=now)
    )
    digits = VERIFICATION_CODE_DIGITS
    code = f"{secrets.randbelow(10**digits):0{digits}d}"
    session.add(
        VerificationChallenge(
            conversation_id=conversation_id,
            account_id=account.id if account else None,
            code_hash=_code_hash(settings, conversation_id, code),
            created_at=now,
            expires_at=now + timedelta(minutes=settings.verification_code_minutes),
        )
    )
    # Details that reach nobody are counted under what was typed, for the same work.
    if account is not None:
        recipient = account.email
    else:
        recipient = normalise_email(email) if email else f"client:{number}"
    await mail_limits.email_within_limits(
        session=session,
        settings=settings,
        recipient=recipient,
        reaches_someone=account is not None,
        template="verification_code",
        code=code,
        minutes=settings.verification_code_minutes,
    )
    await session.flush()


@dataclass(frozen=True)
class CodeCheck:
    """Outcome of a typed code. Returned, not raised, so the attempt count is committed."""

    grant: ConversationGrant | None
    problem: str = ""  # "wrong_code", "code_expired", "too_many_attempts", "no_challenge"
    attempts_left: int = 0


async def confirm_code(
    *, session: AsyncSession, settings: Settings, conversation_id: str, code: str
) -> CodeCheck:
    challenge = await session.scalar(
        select(VerificationChallenge)
        .where(
            VerificationChallenge.conversation_id == conversation_id,
            VerificationChallenge.closed_at.is_(None),
        )
        .order_by(VerificationChallenge.id.desc())
        .limit(1)
    )
    if challenge is None:
        return CodeCheck(None, "no_challenge")
    now = utcnow()
    if challenge.expires_at <= now:
        challenge.closed_at = now
        return CodeCheck(None, "code_expired")
    challenge.attempts += 1
    typed = "".join(ch for ch in code if ch.isdigit())
    matches = hmac.compare_digest(challenge.code_hash, _code_hash(settings, conversation_id, typed))
    if not matches or challenge.account_id is None:
        left = settings.verification_max_attempts - challenge.attempts
        if left <= 0:
            challenge.closed_at = now
            return CodeCheck(None, "too_many_attempts")
        return CodeCheck(None, "wrong_code", left)
    challenge.verified_at = challenge.closed_at = now
    account = await session.get(Account, challenge.account_id)
    assert account is not None
    grant = await _grant(
        session=session,
        settings=settings,
        conversation_id=conversation_id,
        account=account,
        method="email_code",
    )
    return CodeCheck(grant)


async def _grant(
    *,
    session: AsyncSession,
    settings: Settings,
    conversation_id: str,
    account: Account,
    method: str,
) -> ConversationGrant:
    now = utcnow()
    await session.execute(
        update(ConversationGrant)
        .where(
            ConversationGrant.conversation_id == conversation_id,
            ConversationGrant.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    grant = ConversationGrant(
        conversation_id=conversation_id,
        account_id=account.id,
        household_id=account.household_id,
        method=method,
        created_at=now,
        expires_at=now + timedelta(minutes=settings.grant_minutes),
    )
    session.add(grant)
    await session.flush()
    return grant


async def current_grant(*, session: AsyncSession, conversation_id: str) -> ConversationGrant:
    """The live grant of the conversation, or ``NotAuthenticated("not_verified")``."""
    grant = await session.scalar(
        select(ConversationGrant)
        .where(
            ConversationGrant.conversation_id == conversation_id,
            ConversationGrant.revoked_at.is_(None),
            ConversationGrant.expires_at > utcnow(),
        )
        .order_by(ConversationGrant.id.desc())
        .limit(1)
    )
    if grant is None or not conversation_id:
        raise NotAuthenticated(code="not_verified")
    account = await session.get(Account, grant.account_id)
    if account is None or account.status != AccountStatus.ACTIVE:
        raise NotAuthenticated(code="not_verified")
    return grant


async def end_verification(*, session: AsyncSession, conversation_id: str) -> None:
    await session.execute(
        update(ConversationGrant)
        .where(
            ConversationGrant.conversation_id == conversation_id,
            ConversationGrant.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )


# --------------------------------------------------------------------------- session tokens


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def mint_session_token(*, settings: Settings, account_id: int, now: datetime) -> str:
    """A token the logged-in tenant page hands to the widget: account id, expiry, HMAC."""
    expires = int(now.timestamp()) + settings.session_token_seconds
    payload = _b64(json.dumps({"acc": account_id, "exp": expires}).encode())
    signature = hmac.new(settings.secret_key.encode(), payload.encode(), hashlib.sha256)
    return f"{payload}.{_b64(signature.digest())}"


def read_session_token(*, settings: Settings, token: str, now: datetime) -> int:
    """The account id in a valid, unexpired token; ``TokenInvalid`` otherwise."""
    payload, _, signature = (token or "").partition(".")
    expected = hmac.new(settings.secret_key.encode(), payload.encode(), hashlib.sha256).digest()
    try:
        valid = hmac.compare_digest(_unb64(signature), expected)
        claims = json.loads(_unb64(payload)) if valid else {}
    except ValueError:
        valid, claims = False, {}
    if (
        not valid
        or not isinstance(claims.get("acc"), int)
        or not isinstance(claims.get("exp"), int)
    ):
        raise TokenInvalid(code="session_token_invalid")
    if claims["exp"] <= now.timestamp():
        raise TokenInvalid(code="session_token_expired")
    return claims["acc"]


async def verify_with_session_token(
    *, session: AsyncSession, settings: Settings, conversation_id: str, token: str
) -> ConversationGrant:
    account_id = read_session_token(settings=settings, token=token, now=utcnow())
    account = await session.get(Account, account_id)
    if account is None or account.status != AccountStatus.ACTIVE:
        raise TokenInvalid(code="session_token_invalid")
    return await _grant(
        session=session,
        settings=settings,
        conversation_id=conversation_id,
        account=account,
        method="session_token",
    )
