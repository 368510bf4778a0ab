"""Logging in to the tenant page that hosts the chat widget: credentials, login cookie, CSRF.

Credentials are the email and password chosen at registration, checked with argon2 for an
ACTIVE account only. Every failure is the same ``None`` (unknown email, wrong password, pending
or closed account) and an unknown email still costs one argon2 verification, so neither the
page nor its timing tells them apart. Attempts are counted per email and per client IP first.

The login cookie is the signed cookie of ``web_security`` (``v1.<account id>.<issued>.<expires>.
<password tag>.<HMAC-SHA256>``) under the tenant's own signing purpose, so a widget session token
or a staff login cookie (same secret, other purpose) never passes for it, nor the reverse.
``expires`` slides on each page view (idle timeout); ``issued`` caps a login's total life; the
password tag ties the login to the password, so changing it logs every browser out.

Forms carry the signed double-submit CSRF token of ``web_security``, its cookie SameSite=Lax.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.portal.models import Account, AccountStatus
from bot.portal.services import ratelimit, web_security
from bot.portal.services.passwords import verify_password
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
    window = timedelta(minutes=settings.rate_limit_window_minutes)
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
    account = await session.scalar(
        select(Account).where(
            Account.email == email.strip().lower(), Account.status == AccountStatus.ACTIVE
        )
    )
    password_hash = account.password_hash if account is not None else None
    checked_hash = password_hash or web_security.decoy_hash()
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
    return web_security.tag(settings, "tenant-login-password", password_hash)


def mint_login_cookie(
    *, settings: Settings, account: Account, now: datetime, issued_at: int | None = None
) -> str:
    """A login cookie for ``account``, idle-expiring ``LOGIN_IDLE`` after ``now``.

    Pass the ``issued_at`` of the cookie being renewed to keep the login's total life bounded.
    """
    return web_security.mint_session_cookie(
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
    claims = web_security.read_session_cookie(
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
    if not web_security.same(claims.password_tag, current_tag):
        return None
    return account, claims


def cookie_attributes(*, settings: Settings) -> dict[str, object]:
    """Attributes of both cookies: not readable by scripts, not sent on cross-site posts."""
    return web_security.cookie_attributes(settings=settings, path=COOKIE_PATH, samesite="Lax")


# --------------------------------------------------------------------------- CSRF

new_csrf_secret = web_security.new_csrf_secret


def csrf_token(*, settings: Settings, secret: str) -> str:
    """The hidden-field value that goes with the CSRF cookie ``secret``."""
    return web_security.csrf_token(settings=settings, purpose=_CSRF_PURPOSE, secret=secret)


def csrf_valid(*, settings: Settings, secret: str, token: str) -> bool:
    return web_security.csrf_valid(
        settings=settings, purpose=_CSRF_PURPOSE, secret=secret, token=token
    )
