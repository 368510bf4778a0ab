"""The staff login cookie and CSRF tokens (pure rules, no database)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.portal.models import StaffAccount, utcnow
from bot.portal.services import signing, tenant_login
from bot.settings import Settings
from bot.staff.services import sessions
from bot.staff.services.sessions import IDLE_TIMEOUT, MAX_AGE
from bot.web import cookies

PURPOSE = "staff-login-cookie"


@pytest.fixture
def agent() -> StaffAccount:
    return StaffAccount(id=3, password_hash="$argon2id$hash-one", session_epoch=0)


def claims(settings: Settings, cookie: str, minutes: float = 0):
    now = utcnow() + timedelta(minutes=minutes)
    return signing.read_session_cookie(settings=settings, purpose=PURPOSE, cookie=cookie, now=now)


def test_cookie_round_trip_idle_expiry_and_maximum_age(
    settings: Settings, agent: StaffAccount
) -> None:
    start = utcnow()
    cookie = sessions.mint_login_cookie(settings=settings, account=agent, now=start)

    assert claims(settings, cookie).subject_id == 3
    assert claims(settings, cookie, IDLE_TIMEOUT.total_seconds() / 60 + 1) is None
    late = start + MAX_AGE - timedelta(minutes=1)
    renewed = sessions.mint_login_cookie(
        settings=settings, account=agent, now=late, issued_at=int(start.timestamp())
    )
    assert claims(settings, renewed, MAX_AGE.total_seconds() / 60 - 2) is not None
    assert claims(settings, renewed, MAX_AGE.total_seconds() / 60 + 1) is None


def test_the_tag_changes_with_password_and_epoch(settings: Settings, agent: StaffAccount) -> None:
    before = sessions.state_tag(settings=settings, account=agent)
    logged_out = StaffAccount(id=3, password_hash=agent.password_hash, session_epoch=1)
    new_password = StaffAccount(id=3, password_hash="$argon2id$hash-two", session_epoch=0)

    assert sessions.state_tag(settings=settings, account=logged_out) != before
    assert sessions.state_tag(settings=settings, account=new_password) != before


def test_staff_and_tenant_cookies_are_not_interchangeable(
    settings: Settings, agent: StaffAccount
) -> None:
    now = utcnow()
    staff_cookie = sessions.mint_login_cookie(settings=settings, account=agent, now=now)
    tenant_cookie = tenant_login.mint_login_cookie(settings=settings, account=agent, now=now)

    assert tenant_login.read_login_cookie(settings=settings, cookie=staff_cookie, now=now) is None
    assert claims(settings, tenant_cookie) is None


def test_csrf_token_is_bound_to_the_secret_and_the_staff_member(
    settings: Settings, agent: StaffAccount
) -> None:
    other = StaffAccount(id=4)
    secret = signing.new_csrf_secret()
    token = sessions.csrf_token(settings=settings, secret=secret, account=agent)

    assert sessions.csrf_valid(settings=settings, secret=secret, token=token, account=agent)
    for secret_, account in [(secret, other), (secret, None), ("other", agent), ("", agent)]:
        assert not sessions.csrf_valid(
            settings=settings, secret=secret_, token=token, account=account
        )
    # Nor is a tenant page's token accepted by the console.
    tenant = tenant_login.csrf_token(settings=settings, secret=secret)
    assert not sessions.csrf_valid(settings=settings, secret=secret, token=tenant, account=None)


@pytest.mark.parametrize(("env", "secure"), [("development", False), ("production", True)])
def test_cookie_attributes(settings: Settings, env: str, secure: bool) -> None:
    attributes = sessions.cookie_attributes(settings=settings.with_overrides(env=env))

    assert attributes == {
        "path": "/staff",
        "httponly": True,
        "samesite": "Strict",
        "secure": secure,
    }


@pytest.mark.parametrize(("current", "kept"), [("abc", True), ("", False), ("x" * 101, False)])
def test_usable_csrf_secret(current: str, kept: bool) -> None:
    secret, fresh = cookies.usable_csrf_secret(current)

    assert (secret == current) is kept and fresh is not kept and secret
