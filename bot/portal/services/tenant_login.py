"""Logging in to the tenant page that hosts the chat widget: credentials, login cookie, CSRF.

Credentials are the email and password chosen at registration, checked with argon2 for an
ACTIVE account only. Every failure is the same ``None`` (unknown email, wrong password, pending
or closed account) and an unknown email still costs one argon2 verification, so neither the
page nor its timing tells them apart. Attempts are counted per email and per client IP first.

The login cookie is the signed cookie of ``signing`` (``v1.<account id>.<issued>.<expires>.
<password tag>.<HMAC-SHA256>``) under the tenant's own signing purpose, so a widget session token
or a staff login cookie (same secret, other purpose) never passes for it, nor the reverse.
``expires`` slides on each page view (idle timeout); ``issued`` caps a login's total life; the
password tag ties the login to the password, so changing it logs every browser out.

Forms carry the signed double-submit CSRF token of ``signing``, its cookie SameSite=Lax.

Each view of the page hands the widget a session token (``mint_widget_token``: the claims
``verification.read_session_token`` checks, plus a random ``jti``). ``redeem_widget_token`` is
the only way in: the token is single-use and bound to the conversation that redeems it first;
its ``jti`` is recorded (``RedeemedWidgetToken``) until it expires, so a replay, by the same
conversation or another one, is refused and grants nothing.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import InvalidInput, TokenInvalid
from bot.policy import landlord
from bot.portal.models import Account, AccountStatus, ConversationGrant, utcnow
from bot.portal.models.widget_token import RedeemedWidgetToken
from bot.portal.services import ratelimit, signing, verification
from bot.portal.services.households import active_account_by_email
from bot.portal.services.passwords import verify_password
from bot.settings import Settings

#: Where the tenant pages live; the cookies are sent to these pages only.
COOKIE_PATH = "/espace-locataire"
LOGIN_COOKIE = "espace_locataire"
CSRF_COOKIE = "espace_locataire_csrf"
#: Logged out after this long without a page view.
LOGIN_IDLE = landlord.TENANT_LOGIN_IDLE
#: Logged out after this long whatever the activity.
LOGIN_MAX_AGE = landlord.TENANT_LOGIN_MAX_AGE
#: Attempts per email and per client IP, counted in ``settings.attempt_window`` (the landlord's
#: ``TENANT_LOGINS_PER_EMAIL`` and ``TENANT_LOGINS_PER_IP``; named here so tests can lower them).
ATTEMPTS_PER_EMAIL = landlord.TENANT_LOGINS_PER_EMAIL.count
ATTEMPTS_PER_IP = landlord.TENANT_LOGINS_PER_IP.count

_COOKIE_PURPOSE = "tenant-login-cookie"
_CSRF_PURPOSE = "tenant-csrf"


# --------------------------------------------------------------------------- credentials


def email_key(email: str) -> str:
    # Hashed: the counters table keeps no email address, and any length fits its key column.
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


async def limit_login_attempts(
    *, session: AsyncSession, settings: Settings, email: str, client_ip: str
) -> None:
    """Count one attempt per email and per client IP; ``RateLimited`` past either limit."""
    window = settings.attempt_window
    await ratelimit.hit(
        session=session,
        key=f"login-email:{email_key(email)}",
        limit=ATTEMPTS_PER_EMAIL,
        window=window,
    )
    await ratelimit.hit(
        session=session,
        key=f"login-ip:{client_ip or 'unknown'}",
        limit=ATTEMPTS_PER_IP,
        window=window,
    )


async def check_credentials(*, session: AsyncSession, email: str, password: str) -> Account | None:
    """The ACTIVE account with this email and password; ``None`` for any other case."""
    account = await active_account_by_email(session=session, email=email.strip().lower())
    password_hash = account.password_hash if account is not None else None
    checked_hash = password_hash or signing.decoy_hash()
    # argon2 releases the GIL: verifying in a thread keeps the event loop serving.
    matches = await asyncio.to_thread(verify_password, checked_hash, password)
    return account if matches and password_hash else None


async def log_in(
    *, session: AsyncSession, settings: Settings, email: str, password: str, client_ip: str
) -> Account | None:
    """Count the attempt, then check it. Returns rather than raises on bad credentials, so
    the caller's transaction commits the count."""
    await limit_login_attempts(session=session, settings=settings, email=email, client_ip=client_ip)
    return await check_credentials(session=session, email=email, password=password)


# --------------------------------------------------------------------------- login cookie


@dataclass(frozen=True)
class LoginCookie:
    account_id: int
    issued_at: int
    expires_at: int
    password_tag: str


def password_tag(*, settings: Settings, password_hash: str) -> str:
    return signing.tag(settings, "tenant-login-password", password_hash)


def mint_login_cookie(
    *, settings: Settings, account: Account, now: datetime, issued_at: int | None = None
) -> str:
    """A login cookie for ``account``, idle-expiring ``LOGIN_IDLE`` after ``now``.

    Pass the ``issued_at`` of the cookie being renewed to keep the login's total life bounded.
    """
    return signing.mint_session_cookie(
        settings=settings,
        purpose=_COOKIE_PURPOSE,
        subject_id=account.id,
        tag=password_tag(settings=settings, password_hash=account.password_hash or ""),
        now=now,
        idle=LOGIN_IDLE,
        max_age=LOGIN_MAX_AGE,
        issued_at=issued_at,
    )


def read_login_cookie(*, settings: Settings, cookie: str, now: datetime) -> LoginCookie | None:
    """The claims of a well-signed, unexpired login cookie; ``None`` otherwise."""
    claims = signing.read_session_cookie(
        settings=settings, purpose=_COOKIE_PURPOSE, cookie=cookie, now=now
    )
    if claims is None:
        return None
    return LoginCookie(claims.subject_id, claims.issued_at, claims.expires_at, claims.tag)


async def logged_in_account(
    *, session: AsyncSession, settings: Settings, cookie: str, now: datetime
) -> tuple[Account, LoginCookie] | None:
    """The account a valid login cookie names, while it is ACTIVE with the same password."""
    claims = read_login_cookie(settings=settings, cookie=cookie, now=now)
    if claims is None:
        return None
    account = await session.get(Account, claims.account_id)
    if account is None or account.status != AccountStatus.ACTIVE or not account.password_hash:
        return None
    current_tag = password_tag(settings=settings, password_hash=account.password_hash)
    if not signing.same(claims.password_tag, current_tag):
        return None
    return account, claims


def cookie_attributes(*, settings: Settings) -> dict[str, object]:
    """Attributes of both cookies: not readable by scripts, not sent on cross-site posts."""
    return signing.cookie_attributes(settings=settings, path=COOKIE_PATH, samesite="Lax")


# --------------------------------------------------------------------------- CSRF

new_csrf_secret = signing.new_csrf_secret


def csrf_token(*, settings: Settings, secret: str) -> str:
    """The hidden-field value that goes with the CSRF cookie ``secret``."""
    return signing.csrf_token(settings=settings, purpose=_CSRF_PURPOSE, secret=secret)


def csrf_valid(*, settings: Settings, secret: str, token: str) -> bool:
    return signing.csrf_valid(settings=settings, purpose=_CSRF_PURPOSE, secret=secret, token=token)


# --------------------------------------------------------------------------- widget session token


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint_widget_token(*, settings: Settings, account_id: int, now: datetime) -> str:
    """The token one view of the page hands the widget: ``verification``'s signed claims
    (account, expiry) and a random ``jti`` that makes it single-use."""
    claims = {
        "acc": account_id,
        "exp": int(now.timestamp()) + settings.session_token_seconds,
        "jti": secrets.token_urlsafe(16),
    }
    payload = _b64(json.dumps(claims).encode())
    signature = hmac.new(settings.secret_key.encode(), payload.encode(), hashlib.sha256)
    return f"{payload}.{_b64(signature.digest())}"


def _token_id(token: str) -> tuple[str, datetime]:
    """The ``jti`` and expiry of a token whose signature was checked; a token minted without a
    ``jti`` is identified by its own digest (it is single-use all the same)."""
    payload = token.partition(".")[0]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 16 <= len(jti) <= 64:
        jti = hashlib.sha256(payload.encode()).hexdigest()
    return jti, datetime.fromtimestamp(claims["exp"], tz=timezone.utc)


async def redeem_widget_token(
    *, session: AsyncSession, settings: Settings, conversation_id: str, token: str
) -> ConversationGrant:
    """Verify ``conversation_id`` with a widget token, once: ``TokenInvalid`` for a forged or
    expired token (``session_token_invalid``, ``session_token_expired``) and for one already
    redeemed (``session_token_used``), which then grants nothing and changes nothing."""
    if not conversation_id:
        # A token spent without a conversation would verify nothing and be lost.
        raise InvalidInput(code="missing_conversation", field="X-Conversation-Id")
    now = utcnow()
    verification.read_session_token(settings=settings, token=token, now=now)
    jti, expires_at = _token_id(token)
    await session.execute(delete(RedeemedWidgetToken).where(RedeemedWidgetToken.expires_at <= now))
    session.add(RedeemedWidgetToken(jti=jti, redeemed_at=now, expires_at=expires_at))
    try:
        await session.flush()
    except IntegrityError:  # redeemed before, or by a concurrent request that won the race
        raise TokenInvalid(code="session_token_used") from None
    return await verification.verify_with_session_token(
        session=session, settings=settings, conversation_id=conversation_id, token=token
    )
