"""Closing accounts: unsubscribing (the household may register again with the same details) and
deactivation 6 months after moving out."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import select, update
from sqlalchemy.orm import sessionmaker

from bot.errors import Conflict, NotFound, TokenInvalid
from bot.portal.models import AccountStatus, Household, TokenPurpose
from bot.portal.services import accounts, recovery
from bot.portal.services.tokens import find_valid_token
from bot.settings import Settings
from tests.portal.support import Mailbox, Portal, accounts_of, db_snapshot, outbox, words

TODAY = date(2026, 11, 26)
DUPONT_DETAILS = {
    "client_number": "87654321",
    "surname": "Dupont",
    "email": "claire.dupont@example.org",
}


async def _account_id(sessions: sessionmaker, client_number: str) -> int:
    (account,) = await accounts_of(sessions, client_number)
    return account.id


async def _move_out(sessions: sessionmaker, client_number: str, on: date) -> None:
    async with sessions.begin() as session:
        await session.execute(
            update(Household)
            .where(Household.client_number == client_number)
            .values(move_out_date=on)
        )


async def _status(sessions: sessionmaker, client_number: str) -> AccountStatus:
    return (await accounts_of(sessions, client_number))[-1].status


# --------------------------------------------------------------------------- unsubscribe


async def test_unsubscribing_closes_the_account_and_confirms_by_email(
    sessions: sessionmaker, portal_settings: Settings
) -> None:
    account_id = await _account_id(sessions, "87654321")

    async with sessions.begin() as session:
        await accounts.unsubscribe(session=session, settings=portal_settings, account_id=account_id)

    (account,) = await accounts_of(sessions, "87654321")
    assert account.status == AccountStatus.UNSUBSCRIBED
    assert account.closed_at is not None
    (email,) = await outbox(sessions)
    assert (email.to_address, email.template) == ("claire.dupont@example.org", "unsubscribed")
    assert "recréer votre compte" in words(email.text_body)


async def test_unsubscribing_revokes_open_links(
    sessions: sessionmaker, portal_settings: Settings
) -> None:
    async with sessions.begin() as session:
        await recovery.request_password_reset(
            session=session, settings=portal_settings, email="claire.dupont@example.org"
        )
    link = (await outbox(sessions))[0].text_body.split("jeton=")[1].split()[0]

    account_id = await _account_id(sessions, "87654321")
    async with sessions.begin() as session:
        await accounts.unsubscribe(session=session, settings=portal_settings, account_id=account_id)

    async with sessions() as session:
        with pytest.raises(TokenInvalid):
            await find_valid_token(session=session, raw=link, purpose=TokenPurpose.PASSWORD_RESET)


@pytest.mark.parametrize(("client_number", "error"), [("99887766", Conflict), (None, NotFound)])
async def test_closed_or_unknown_account_cannot_unsubscribe(
    sessions: sessionmaker,
    portal_settings: Settings,
    client_number: str | None,
    error: type[Exception],
) -> None:
    account_id = await _account_id(sessions, client_number) if client_number else 999_999
    before = await db_snapshot(sessions)

    with pytest.raises(error) as refused:
        async with sessions.begin() as session:
            await accounts.unsubscribe(
                session=session, settings=portal_settings, account_id=account_id
            )

    assert refused.value.message  # French text for the page or the chat
    assert await db_snapshot(sessions) == before


async def test_household_can_register_again_after_unsubscribing(
    portal: Portal, mailbox: Mailbox
) -> None:
    account_id = await _account_id(portal.sessions, "87654321")
    async with portal.sessions.begin() as session:
        await accounts.unsubscribe(session=session, settings=portal.settings, account_id=account_id)

    response = await portal.api("/api/v1/registrations", DUPONT_DETAILS)

    assert response.status_code == 202
    old, new = await accounts_of(portal.sessions, "87654321")
    assert (old.status, new.status) == (AccountStatus.UNSUBSCRIBED, AccountStatus.PENDING)
    assert new.email == "claire.dupont@example.org"
    email = await mailbox.wait_for(to="claire.dupont@example.org", subject="Activez")
    assert "/compte/activer?jeton=" in email.links[0]


# --------------------------------------------------------------------------- moving out


def test_deactivation_date_is_six_months_after_moving_out() -> None:
    assert accounts.deactivation_date(date(2026, 1, 31)) == date(2026, 7, 31)
    assert accounts.deactivation_date(date(2025, 8, 31)) == date(2026, 2, 28)


async def test_household_gone_six_months_is_deactivated_once(sessions: sessionmaker) -> None:
    await _move_out(sessions, "87654321", TODAY - relativedelta(months=6))  # Dupont: due today
    await _move_out(sessions, "11223344", TODAY - relativedelta(months=5))  # Nguyen: not yet

    async with sessions.begin() as session:
        first = await accounts.deactivate_moved_out(session=session, today=TODAY)
    after_first = await db_snapshot(sessions)
    async with sessions.begin() as session:
        second = await accounts.deactivate_moved_out(session=session, today=TODAY)

    assert (first, second) == (1, 0)
    assert await db_snapshot(sessions) == after_first
    assert await _status(sessions, "87654321") == AccountStatus.DEACTIVATED
    assert await _status(sessions, "11223344") == AccountStatus.ACTIVE
    assert await _status(sessions, "99887766") == AccountStatus.DEACTIVATED


async def test_deactivation_waits_for_the_full_six_months(sessions: sessionmaker) -> None:
    await _move_out(sessions, "87654321", TODAY - relativedelta(months=6) + timedelta(days=1))

    async with sessions.begin() as session:
        assert await accounts.deactivate_moved_out(session=session, today=TODAY) == 0

    assert await _status(sessions, "87654321") == AccountStatus.ACTIVE


async def test_pending_account_of_a_household_gone_is_deactivated_too(
    sessions: sessionmaker,
) -> None:
    await _move_out(sessions, "55667788", TODAY - relativedelta(months=8))

    async with sessions.begin() as session:
        assert await accounts.deactivate_moved_out(session=session, today=TODAY) == 1

    assert await _status(sessions, "55667788") == AccountStatus.DEACTIVATED


async def test_deactivation_revokes_open_links(
    sessions: sessionmaker, portal_settings: Settings
) -> None:
    async with sessions.begin() as session:
        await recovery.request_password_reset(
            session=session, settings=portal_settings, email="claire.dupont@example.org"
        )
    token = (await outbox(sessions))[0].text_body.split("jeton=")[1].split()[0]
    await _move_out(sessions, "87654321", TODAY - relativedelta(months=7))

    async with sessions.begin() as session:
        await accounts.deactivate_moved_out(session=session, today=TODAY)

    async with sessions() as session:
        with pytest.raises(TokenInvalid):
            await find_valid_token(session=session, raw=token, purpose=TokenPurpose.PASSWORD_RESET)
        dupont = await session.scalar(
            select(Household).where(Household.client_number == "87654321")
        )
        assert dupont.move_out_date == TODAY - relativedelta(months=7)
