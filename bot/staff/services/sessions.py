"""The staff login cookie and CSRF tokens, on the signing helpers of ``signing``.

The cookie is ``signing``'s signed login cookie under the staff's own signing purposes:
a tenant login cookie or a widget token never passes for it. Its tag signs the account's
password hash and ``session_epoch``: changing the password, logging out or being deactivated
(both bump the epoch) ends every session of the account at once, without a sessions table.
The account is read again on every request, so a role change or a deactivation applies to
the very next page.

CSRF tokens are bound to the staff member logged in (``staff:<id>``; ``anonymous`` on the
login form): a token harvested from another session, or from the login page, is refused on
a logged-in form even if an attacker managed to plant the matching CSRF cookie.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.policy import landlord
from bot.portal.models import StaffAccount
from bot.portal.services import signing
from bot.portal.services.signing import SessionClaims
from bot.settings import Settings

#: The console's pages; its cookies are sent to them only.
COOKIE_PATH = "/staff"
LOGIN_COOKIE = "console_personnel"
CSRF_COOKIE = "console_personnel_csrf"
#: Logged out after this long without a page view.
IDLE_TIMEOUT = landlord.STAFF_LOGIN_IDLE
#: Logged out after this long whatever the activity (a working day).
MAX_AGE = landlord.STAFF_LOGIN_MAX_AGE

_COOKIE_PURPOSE = "staff-login-cookie"
_TAG_PURPOSE = "staff-login-state"
_CSRF_PURPOSE = "staff-csrf"


def state_tag(*, settings: Settings, account: StaffAccount) -> str:
    return signing.tag(
        settings, _TAG_PURPOSE, f"{account.password_hash}|{account.session_epoch or 0}"
    )


def mint_login_cookie(
    *, settings: Settings, account: StaffAccount, now: datetime, issued_at: int | None = None
) -> str:
    """A login cookie idle-expiring ``IDLE_TIMEOUT`` after ``now`` (``issued_at`` to renew)."""
    return signing.mint_session_cookie(
        settings=settings,
        purpose=_COOKIE_PURPOSE,
        subject_id=account.id,
        tag=state_tag(settings=settings, account=account),
        now=now,
        idle=IDLE_TIMEOUT,
        max_age=MAX_AGE,
        issued_at=issued_at,
    )


async def logged_in_staff(
    *, session: AsyncSession, settings: Settings, cookie: str, now: datetime
) -> tuple[StaffAccount, SessionClaims] | None:
    """The active account a valid, current login cookie names; ``None`` otherwise."""
    claims = signing.read_session_cookie(
        settings=settings, purpose=_COOKIE_PURPOSE, cookie=cookie, now=now
    )
    if claims is None:
        return None
    account = await session.get(StaffAccount, claims.subject_id)
    if account is None or not account.active:
        return None
    if not signing.same(claims.tag, state_tag(settings=settings, account=account)):
        return None
    return account, claims


def cookie_attributes(*, settings: Settings) -> dict[str, object]:
    """Both cookies: HttpOnly, SameSite=Strict, /staff only, Secure outside development."""
    return signing.cookie_attributes(settings=settings, path=COOKIE_PATH, samesite="Strict")


def csrf_binding(account: StaffAccount | None) -> str:
    return f"staff:{account.id}" if account is not None else "anonymous"


def csrf_token(*, settings: Settings, secret: str, account: StaffAccount | None) -> str:
    return signing.csrf_token(
        settings=settings, purpose=_CSRF_PURPOSE, secret=secret, binding=csrf_binding(account)
    )


def csrf_valid(
    *, settings: Settings, secret: str, token: str, account: StaffAccount | None
) -> bool:
    return signing.csrf_valid(
        settings=settings,
        purpose=_CSRF_PURPOSE,
        secret=secret,
        token=token,
        binding=csrf_binding(account),
    )
