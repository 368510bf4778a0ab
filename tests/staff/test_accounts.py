"""Staff account rules, on the database: creation, lock-out, roles, deactivation, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import sessionmaker

from bot.errors import Conflict, InvalidInput
from bot.portal.models import StaffAccount, StaffRole, utcnow
from bot.settings import Settings
from bot.staff.errors import LastAdmin, StaffEmailTaken, StaffNotAllowed, StaffNotFound
from bot.staff.services import accounts, audit, staff_login
from tests.portal.support import GOOD_PASSWORD
from tests.staff.support import ADMIN_EMAIL, AGENT_EMAIL, audit_entries, staff_account

WRONG = "Mauvais-mot-de-passe-1"


async def attempt(
    sessions: sessionmaker, settings: Settings, email: str, password: str, minutes: float = 0
) -> staff_login.LoginAttempt:
    async with sessions.begin() as session:
        return await staff_login.attempt_login(
            session=session,
            settings=settings,
            email=email,
            password=password,
            ip="192.0.2.7",
            now=utcnow() + timedelta(minutes=minutes),
        )


# --------------------------------------------------------------------------- creation


async def test_created_account_is_active_normalised_and_hashed(
    sessions: sessionmaker, staff: dict
) -> None:
    agent = await staff_account(sessions, AGENT_EMAIL)

    assert agent.active and agent.role == StaffRole.AGENT and agent.display_name == "Bruno Agent"
    assert agent.password_hash.startswith("$argon2id$") and GOOD_PASSWORD not in agent.password_hash
    assert agent.failed_attempts == 0 and agent.locked_until is None and agent.created_at


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"password": "Court1a"}, InvalidInput, "au moins 12 caractères"),
        ({"password": "tout-en-minuscules-1"}, InvalidInput, "une lettre majuscule"),
        ({"password": "Nouveau.Compte2025"}, InvalidInput, "adresse e-mail"),  # reuses the email
        ({"email": "pas une adresse"}, InvalidInput, "adresse e-mail"),
        ({"email": " BRUNO.Agent@example.org "}, StaffEmailTaken, "existe déjà"),
        ({"role": "superuser"}, InvalidInput, "administrateur"),
        ({"display_name": "x" * 121}, InvalidInput, "nom affiché"),
    ],
)
async def test_creation_refusals(
    sessions: sessionmaker, staff: dict, changes: dict, error: type, message: str
) -> None:
    fields = {
        "email": "nouveau.compte@example.org",
        "display_name": "Nouveau",
        "role": "agent",
        "password": "Tournesol-2025",
        **changes,
    }
    with pytest.raises(error, match=message):
        async with sessions.begin() as session:
            await accounts.create_staff_account(
                session=session, actor_id=staff["admin"].id, **fields
            )


async def test_agents_cannot_manage_accounts(sessions: sessionmaker, staff: dict) -> None:
    agent_id, admin_id = staff["agent"].id, staff["admin"].id
    calls = [
        lambda s: accounts.create_staff_account(
            session=s,
            email="x@example.org",
            display_name="X",
            role="admin",
            password="Tournesol-2025",
            actor_id=agent_id,
        ),
        lambda s: accounts.set_active(
            session=s, actor_id=agent_id, account_id=admin_id, active=False
        ),
        lambda s: accounts.change_role(
            session=s, actor_id=agent_id, account_id=agent_id, role="admin"
        ),
    ]
    for call in calls:
        with pytest.raises(StaffNotAllowed):
            async with sessions.begin() as session:
                await call(session)

    assert (await staff_account(sessions, AGENT_EMAIL)).role == StaffRole.AGENT


async def test_the_last_admin_stays(sessions: sessionmaker, staff: dict) -> None:
    admin_id, agent_id = staff["admin"].id, staff["agent"].id
    async with sessions.begin() as session:
        await accounts.change_role(
            session=session, actor_id=admin_id, account_id=agent_id, role="admin"
        )
    # Bruno, now an admin, demotes Alice: allowed, another admin remains (himself).
    async with sessions.begin() as session:
        await accounts.change_role(
            session=session, actor_id=agent_id, account_id=admin_id, role="agent"
        )
    # Alice is an agent: she cannot act. Bruno cannot act on himself.
    with pytest.raises(Conflict, match="votre propre compte"):
        async with sessions.begin() as session:
            await accounts.set_active(
                session=session, actor_id=agent_id, account_id=agent_id, active=False
            )
    # Through the console the last admin is always the actor (refused above); the rule itself
    # guards against two admins demoting each other at the same time.
    async with sessions() as session:
        bruno = await session.get(StaffAccount, agent_id)
        with pytest.raises(LastAdmin):
            await accounts._refuse_if_last_admin(session, bruno)


async def test_unknown_account(sessions: sessionmaker, staff: dict) -> None:
    with pytest.raises(StaffNotFound):
        async with sessions.begin() as session:
            await accounts.set_active(
                session=session, actor_id=staff["admin"].id, account_id=424242, active=False
            )


async def test_deactivation_ends_sessions_and_reactivation_unlocks(
    sessions: sessionmaker, staff: dict
) -> None:
    admin_id, agent_id = staff["admin"].id, staff["agent"].id
    epoch = (await staff_account(sessions, AGENT_EMAIL)).session_epoch
    async with sessions.begin() as session:
        await accounts.set_active(
            session=session, actor_id=admin_id, account_id=agent_id, active=False
        )
        agent = await session.get(StaffAccount, agent_id)
        agent.locked_until = utcnow() + timedelta(minutes=5)
    assert (await staff_account(sessions, AGENT_EMAIL)).session_epoch == epoch + 1

    async with sessions.begin() as session:
        await accounts.set_active(
            session=session, actor_id=admin_id, account_id=agent_id, active=True
        )

    agent = await staff_account(sessions, AGENT_EMAIL)
    assert agent.active and agent.locked_until is None
    actions = [e.action for e in await audit_entries(sessions)]
    assert actions[-2:] == ["staff_deactivated", "staff_reactivated"]


# --------------------------------------------------------------------------- lock-out


async def test_lock_after_five_failures_within_the_window_for_fifteen_minutes(
    sessions: sessionmaker, portal_settings: Settings, staff: dict
) -> None:
    for minute in range(staff_login.LOCK_AFTER - 1):
        assert (await attempt(sessions, portal_settings, AGENT_EMAIL, WRONG, minute)).reason == (
            "wrong_password"
        )
    assert (await staff_account(sessions, AGENT_EMAIL)).locked_until is None

    await attempt(sessions, portal_settings, AGENT_EMAIL, WRONG, 4)

    locked = await staff_account(sessions, AGENT_EMAIL)
    assert locked.locked_until is not None
    during = await attempt(sessions, portal_settings, AGENT_EMAIL, GOOD_PASSWORD, 18)
    assert during.account is None and during.reason == "locked"
    after = await attempt(sessions, portal_settings, AGENT_EMAIL, GOOD_PASSWORD, 20)
    assert after.account is not None and after.account.id == staff["agent"].id
    last = (await audit_entries(sessions, "login_failed"))[staff_login.LOCK_AFTER - 1]
    assert last.details == {"reason": "wrong_password", "locked_minutes": 15}


async def test_failures_spread_over_more_than_the_window_do_not_lock(
    sessions: sessionmaker, portal_settings: Settings, staff: dict
) -> None:
    for minute in (0, 5, 10, 14, 16, 20, 25, 29):
        await attempt(sessions, portal_settings, AGENT_EMAIL, WRONG, minute)

    assert (await staff_account(sessions, AGENT_EMAIL)).locked_until is None
    ok = await attempt(sessions, portal_settings, AGENT_EMAIL, GOOD_PASSWORD, 30)
    assert ok.account is not None


async def test_success_resets_the_failure_count(
    sessions: sessionmaker, portal_settings: Settings, staff: dict
) -> None:
    for _ in range(staff_login.LOCK_AFTER - 1):
        await attempt(sessions, portal_settings, AGENT_EMAIL, WRONG)
    await attempt(sessions, portal_settings, AGENT_EMAIL, GOOD_PASSWORD)
    await attempt(sessions, portal_settings, AGENT_EMAIL, WRONG)

    agent = await staff_account(sessions, AGENT_EMAIL)
    assert agent.failed_attempts == 1 and agent.locked_until is None and agent.last_login_at


@pytest.mark.parametrize(
    ("email", "password", "reason"),
    [
        (ADMIN_EMAIL, WRONG, "wrong_password"),
        ("personne@example.org", GOOD_PASSWORD, "unknown_email"),
        ("", "", "unknown_email"),
    ],
)
async def test_refusals_are_all_none_and_audited_without_secrets(
    sessions: sessionmaker, portal_settings: Settings, staff: dict, email, password, reason
) -> None:
    result = await attempt(sessions, portal_settings, email, password)

    assert result.account is None and result.reason == reason
    (entry,) = await audit_entries(sessions, "login_failed")
    assert entry.staff_id is None and entry.details == {"reason": reason}
    assert entry.ip == "192.0.2.7"
    assert not password or password not in repr(entry.details)


# --------------------------------------------------------------------------- audit


@pytest.mark.parametrize("key", ["password", "new_mot_de_passe", "csrf", "token", "Password_Hash"])
async def test_audit_refuses_details_that_look_secret(sessions: sessionmaker, key: str) -> None:
    async with sessions() as session:
        with pytest.raises(ValueError, match="secrets"):
            await audit.record("login", session=session, details={key: "x"})


async def test_audit_record_and_recent(sessions: sessionmaker, staff: dict) -> None:
    async with sessions.begin() as session:
        await audit.record(
            "conversation_taken_over",
            session=session,
            staff_id=staff["agent"].id,
            target_type="conversation",
            target_id="c" * 300,
            details={"channel": "sms"},
            ip="2001:db8::1",
        )
    async with sessions() as session:
        (newest, *_rest) = await audit.recent(session=session, limit=5)
        mine = await audit.recent(session=session, staff_id=staff["agent"].id)

    assert newest.action == "conversation_taken_over" and len(newest.target_id) == 255
    assert newest.details == {"channel": "sms"} and newest.ip == "2001:db8::1"
    assert [e.id for e in mine] == [newest.id]
