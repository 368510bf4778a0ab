"""Logging in to the tenant page that hosts the chat widget: credentials, login cookie, CSRF.

Credentials are the email and password chosen at registration, checked with argon2 for an
ACTIVE account only. Every failure is the same ``None`` (unknown email, wrong password, pending
or closed account) and an unknown email still costs one argon2 verification, so neither the
page nor its timing tells them apart. Attempts are counted per email and per client IP first.

The login cookie is ``v1.<account id>.<issued>.<expires>.<password tag>.<HMAC-SHA256>`` (Unix
seconds). Each signing purpose has its own key derived from ``settings.secret_key``, so a widget
session token (same secret, other purpose) never passes for a login cookie, nor the reverse.
``expires`` slides on each page view (idle timeout); ``issued`` caps a login's total life; the
password tag ties the login to the password, so changing it logs every browser out.

Forms carry a signed double-submit CSRF token: a random secret in an HttpOnly SameSite=Lax
cookie, and its HMAC in a hidden field. A cross-site post has neither the cookie nor a way to
compute the field from one it planted.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.portal.models import Account, AccountStatus
from bot.portal.services import ratelimit
from bot.portal.services.passwords import hash_password, verify_password
from bot.settings import Settings

#: Where the tenant pages live; the cookies are sent to these pages only.
COOKIE_PATH = "/espace-locataire"
LOGIN_COOKIE = "espace_locataire"
CSRF_COOKIE = "espace_locataire_csrf"
#: Logged out after this long without a page view.
LOGIN_IDLE = timedelta(minutes=30)
#: Logged out after this long whatever the activity.
LOGIN_MAX_AGE = timedelta(hours=12)
ATTEMPTS_PER_EMAIL = 5
ATTEMPTS_PER_IP = 20

_VERSION = "v1"


def _key(settings: Settings, purpose: str) -> bytes:
    return hmac.new(settings.secret_key.encode(), purpose.encode(), hashlib.sha256).digest()


def _sign(settings: Settings, purpose: str, message: str) -> str:
    return hmac.new(_key(settings, purpose), message.encode(), hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------- credentials


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    """A hash no password matches, verified for unknown emails so they take as long."""
    return hash_password(secrets.token_urlsafe(24))


def _email_key(email: str) -> str:
    # Hashed: the counters table keeps no email address, and any length fits its key column.
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


async def limit_login_attempts(
    *, session: AsyncSession, settings: Settings, email: str, client_ip: str
) -> None:
    """Count one attempt per email and per client IP; ``RateLimited`` past either limit."""
    window = timedelta(minutes=settings.rate_limit_window_minutes)
    await ratelimit.hit(
        session=session,
        key=f"login-email:{_email_key(email)}",
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
    account = await session.scalar(
        select(Account).where(
            Account.email == email.strip().lower(), Account.status == AccountStatus.ACTIVE
        )
    )
    password_hash = account.password_hash if account is not None else None
    # argon2 releases the GIL: verifying in a thread keeps the event loop serving.
    matches = await asyncio.to_thread(verify_password, password_hash or _decoy_hash(), password)
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
    return _sign(settings, "tenant-login-password", password_hash)[:16]


def mint_login_cookie(
    *, settings: Settings, account: Account, now: datetime, issued_at: int | None = None
) -> str:
    """A login cookie for ``account``, idle-expiring ``LOGIN_IDLE`` after ``now``.

    Pass the ``issued_at`` of the cookie being renewed to keep the login's total life bounded.
    """
    issued = int(now.timestamp()) if issued_at is None else issued_at
    expires = min(int((now + LOGIN_IDLE).timestamp()), issued + int(LOGIN_MAX_AGE.total_seconds()))
    tag = password_tag(settings=settings, password_hash=account.password_hash or "")
    body = f"{_VERSION}.{account.id}.{issued}.{expires}.{tag}"
    return f"{body}.{_sign(settings, 'tenant-login-cookie', body)}"


def read_login_cookie(*, settings: Settings, cookie: str, now: datetime) -> LoginCookie | None:
    """The claims of a well-signed, unexpired login cookie; ``None`` otherwise."""
    body, _, signature = (cookie or "").rpartition(".")
    expected = _sign(settings, "tenant-login-cookie", body)
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        return None
    parts = body.split(".")
    if len(parts) != 5 or parts[0] != _VERSION:
        return None
    _version, account_id, issued, expires, tag = parts
    if not all(p.isascii() and p.isdigit() for p in (account_id, issued, expires)):
        return None
    if int(expires) <= now.timestamp():
        return None
    return LoginCookie(int(account_id), int(issued), int(expires), tag)


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
    if not hmac.compare_digest(claims.password_tag.encode(), current_tag.encode()):
        return None
    return account, claims


def cookie_attributes(*, settings: Settings) -> dict[str, object]:
    """Attributes of both cookies: not readable by scripts, not sent on cross-site posts."""
    return {
        "path": COOKIE_PATH,
        "httponly": True,
        "samesite": "Lax",
        "secure": not settings.is_development,
    }


# --------------------------------------------------------------------------- CSRF


def new_csrf_secret() -> str:
    return secrets.token_urlsafe(32)


def csrf_token(*, settings: Settings, secret: str) -> str:
    """The hidden-field value that goes with the CSRF cookie ``secret``."""
    return _sign(settings, "tenant-csrf", secret)


def csrf_valid(*, settings: Settings, secret: str, token: str) -> bool:
    if not secret or not token:
        return False
    return hmac.compare_digest(
        token.encode(), csrf_token(settings=settings, secret=secret).encode()
    )
