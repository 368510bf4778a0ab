"""Signing, login cookie values and CSRF tokens shared by the pages people log in to.

Used by the tenant page (``tenant_login``) and the staff console (``bot.staff``). Every signing
*purpose* gets its own key derived from ``settings.secret_key``, so a value signed for one
purpose (a tenant login cookie, a staff login cookie, a widget token, a CSRF token) never
passes for another.

A login cookie is ``v1.<subject id>.<issued>.<expires>.<tag>.<HMAC-SHA256>`` (Unix seconds).
``expires`` slides on each page view (idle timeout) but never beyond ``issued + max_age``; the
tag ties the login to server-side state (e.g. the password hash), so changing that state logs
every browser out.

Forms carry a signed double-submit CSRF token: a random secret in an HttpOnly SameSite cookie
and its HMAC in a hidden field, optionally bound to who is logged in. A cross-site post has
neither the cookie nor a way to compute the field from one it planted.

Pure functions of the settings: setting cookies on responses and reading requests is the web
edge's job (``bot/web/cookies.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from bot.portal.services.passwords import hash_password
from bot.settings import Settings

_VERSION = "v1"


def _key(settings: Settings, purpose: str) -> bytes:
    return hmac.new(settings.secret_key.encode(), purpose.encode(), hashlib.sha256).digest()


def sign(settings: Settings, purpose: str, message: str) -> str:
    """Hex HMAC-SHA256 of ``message`` under the key of ``purpose``."""
    return hmac.new(_key(settings, purpose), message.encode(), hashlib.sha256).hexdigest()


def same(given: str, expected: str) -> bool:
    """Constant-time comparison that tolerates any text (non-ASCII included)."""
    return hmac.compare_digest(given.encode(), expected.encode())


def tag(settings: Settings, purpose: str, value: str) -> str:
    """A short signature of server-side state, carried in a login cookie."""
    return sign(settings, purpose, value)[:16]


@lru_cache(maxsize=1)
def decoy_hash() -> str:
    """An argon2 hash no password matches, verified for unknown logins so they take as long."""
    return hash_password(secrets.token_urlsafe(24))


# --------------------------------------------------------------------------- login cookies


@dataclass(frozen=True)
class SessionClaims:
    subject_id: int
    issued_at: int
    expires_at: int
    tag: str


def mint_session_cookie(
    *,
    settings: Settings,
    purpose: str,
    subject_id: int,
    tag: str,
    now: datetime,
    idle: timedelta,
    max_age: timedelta,
    issued_at: int | None = None,
) -> str:
    """A login cookie expiring ``idle`` after ``now``; pass the ``issued_at`` of the cookie
    being renewed to keep the login's total life within ``max_age``."""
    issued = int(now.timestamp()) if issued_at is None else issued_at
    expires = min(int((now + idle).timestamp()), issued + int(max_age.total_seconds()))
    body = f"{_VERSION}.{subject_id}.{issued}.{expires}.{tag}"
    return f"{body}.{sign(settings, purpose, body)}"


def read_session_cookie(
    *, settings: Settings, purpose: str, cookie: str, now: datetime
) -> SessionClaims | None:
    """The claims of a well-signed, unexpired login cookie of ``purpose``; ``None`` otherwise."""
    body, _, signature = (cookie or "").rpartition(".")
    if not same(signature, sign(settings, purpose, body)):
        return None
    parts = body.split(".")
    if len(parts) != 5 or parts[0] != _VERSION:
        return None
    _version, subject_id, issued, expires, claimed_tag = parts
    if not all(p.isascii() and p.isdigit() for p in (subject_id, issued, expires)):
        return None
    if int(expires) <= now.timestamp():
        return None
    return SessionClaims(int(subject_id), int(issued), int(expires), claimed_tag)


def cookie_attributes(*, settings: Settings, path: str, samesite: str) -> dict[str, object]:
    """Cookies not readable by scripts, sent to ``path`` only, over HTTPS outside development."""
    return {
        "path": path,
        "httponly": True,
        "samesite": samesite,
        "secure": not settings.is_development,
    }


# --------------------------------------------------------------------------- CSRF


def new_csrf_secret() -> str:
    return secrets.token_urlsafe(32)


def csrf_token(*, settings: Settings, purpose: str, secret: str, binding: str = "") -> str:
    """The hidden-field value that goes with the CSRF cookie ``secret`` (and ``binding``)."""
    return sign(settings, purpose, f"{secret}|{binding}" if binding else secret)


def csrf_valid(
    *, settings: Settings, purpose: str, secret: str, token: str, binding: str = ""
) -> bool:
    if not secret or not token:
        return False
    expected = csrf_token(settings=settings, purpose=purpose, secret=secret, binding=binding)
    return same(token, expected)
