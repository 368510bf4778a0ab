"""The lock-out cannot keep a staff member out (issue 9: "a staff account can be locked by anyone
repeatedly"): wrong passwords lock the address they come from, not the account, so the right
password from the staff member's own address still logs in; the per-address rate limit stays.

Before: five wrong passwords from anywhere locked the account for everyone for 15 minutes, and
again after each lock.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import sessionmaker

from bot.errors import RateLimited
from bot.portal.models import utcnow
from bot.settings import Settings
from bot.staff.services import accounts, staff_login
from tests.portal.support import GOOD_PASSWORD
from tests.staff.support import AGENT_EMAIL, audit_entries, staff_account

WRONG = "Mauvais-mot-de-passe-1"
ATTACKER, OFFICE, HOME = "203.0.113.66", "192.0.2.7", "2001:db8::5"


async def attempt(
    sessions: sessionmaker,
    settings: Settings,
    ip: str,
    password: str = GOOD_PASSWORD,
    minutes: float = 0,
    email: str = AGENT_EMAIL,
) -> staff_login.LoginAttempt:
    async with sessions.begin() as session:
        return await staff_login.attempt_login(
            session=session,
            settings=settings,
            email=email,
            password=password,
            ip=ip,
            now=utcnow() + timedelta(minutes=minutes),
        )


async def lock_out(sessions: sessionmaker, settings: Settings, ip: str, minutes: float = 0) -> None:
    for _ in range(staff_login.LOCK_AFTER):
        await attempt(sessions, settings, ip, WRONG, minutes)


async def test_the_right_password_from_another_address_logs_in_during_a_lock(
    sessions: sessionmaker, portal_settings: Settings, staff: dict
) -> None:
    await lock_out(sessions, portal_settings, ATTACKER)

    from_attacker = await attempt(sessions, portal_settings, ATTACKER, GOOD_PASSWORD, 1)
    from_office = await attempt(sessions, portal_settings, OFFICE, GOOD_PASSWORD, 1)

    assert (from_attacker.account, from_attacker.reason) == (None, "locked")
    assert from_office.reason == "ok" and from_office.account.id == staff["agent"].id
    # The address stays locked after the staff member's login; the accounts page shows it.
    assert (await attempt(sessions, portal_settings, ATTACKER, GOOD_PASSWORD, 2)).reason == (
        "locked"
    )
    agent = await staff_account(sessions, AGENT_EMAIL)
    assert agent.locked_until > utcnow() + staff_login.LOCK_DURATION - timedelta(minutes=1)


async def test_locking_again_and_again_never_keeps_the_staff_member_out(
    sessions: sessionmaker, portal_settings: Settings, staff: dict
) -> None:
    for lock in range(4):
        start = lock * (staff_login.LOCK_DURATION.total_seconds() / 60 + 1)
        await lock_out(sessions, portal_settings, ATTACKER, start)
        during = await attempt(sessions, portal_settings, HOME, GOOD_PASSWORD, start + 1)
        assert during.reason == "ok", lock


async def test_failures_from_several_addresses_do_not_add_up(
    sessions: sessionmaker, portal_settings: Settings, staff: dict
) -> None:
    for ip in (ATTACKER, OFFICE, HOME):
        for _ in range(staff_login.LOCK_AFTER - 1):
            assert (await attempt(sessions, portal_settings, ip, WRONG)).reason == "wrong_password"

    for ip in (ATTACKER, OFFICE, HOME):
        assert (await attempt(sessions, portal_settings, ip)).reason == "ok"


async def test_the_fifth_failure_from_one_address_locks_it_for_fifteen_minutes(
    sessions: sessionmaker, portal_settings: Settings, staff: dict
) -> None:
    for minute in range(staff_login.LOCK_AFTER):
        await attempt(sessions, portal_settings, ATTACKER, WRONG, minute)

    assert (await attempt(sessions, portal_settings, ATTACKER, minutes=18)).reason == "locked"
    assert (await attempt(sessions, portal_settings, ATTACKER, minutes=20)).reason == "ok"
    last = (await audit_entries(sessions, "login_failed"))[staff_login.LOCK_AFTER - 1]
    assert (last.ip, last.details) == (ATTACKER, {"reason": "wrong_password", "locked_minutes": 15})


async def test_a_success_from_an_address_starts_its_count_anew(
    sessions: sessionmaker, portal_settings: Settings, staff: dict
) -> None:
    for _ in range(staff_login.LOCK_AFTER - 1):
        await attempt(sessions, portal_settings, OFFICE, WRONG)
    assert (await attempt(sessions, portal_settings, OFFICE)).reason == "ok"
    for _ in range(staff_login.LOCK_AFTER - 1):
        await attempt(sessions, portal_settings, OFFICE, WRONG)

    assert (await attempt(sessions, portal_settings, OFFICE)).reason == "ok"


async def test_an_admin_unlock_frees_every_address_and_clears_their_counts(
    sessions: sessionmaker, portal_settings: Settings, staff: dict
) -> None:
    await lock_out(sessions, portal_settings, OFFICE)
    for _ in range(staff_login.LOCK_AFTER - 1):
        await attempt(sessions, portal_settings, ATTACKER, WRONG)

    async with sessions.begin() as session:
        await accounts.unlock(
            session=session, actor_id=staff["admin"].id, account_id=staff["agent"].id
        )

    assert (await attempt(sessions, portal_settings, OFFICE, minutes=1)).reason == "ok"
    # The attacker's four failures before the unlock no longer count.
    for _ in range(staff_login.LOCK_AFTER - 1):
        await attempt(sessions, portal_settings, ATTACKER, WRONG, 1)
    assert (await attempt(sessions, portal_settings, ATTACKER, minutes=1)).reason == "ok"


async def test_a_locked_address_gets_the_same_answer_as_any_failure(
    sessions: sessionmaker, portal_settings: Settings, staff: dict
) -> None:
    await lock_out(sessions, portal_settings, ATTACKER)

    right = await attempt(sessions, portal_settings, ATTACKER, GOOD_PASSWORD)
    wrong = await attempt(sessions, portal_settings, ATTACKER, WRONG)
    unknown = await attempt(sessions, portal_settings, ATTACKER, email="personne@example.org")

    assert right.account is None and wrong.account is None and unknown.account is None


async def test_the_per_address_rate_limit_stays(
    sessions: sessionmaker,
    portal_settings: Settings,
    staff: dict,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(staff_login, "ATTEMPTS_PER_IP", 3)
    for number in range(3):
        await attempt(sessions, portal_settings, ATTACKER, email=f"inconnu{number}@example.org")

    with pytest.raises(RateLimited):
        await attempt(sessions, portal_settings, ATTACKER)
    assert (await attempt(sessions, portal_settings, OFFICE)).reason == "ok"
