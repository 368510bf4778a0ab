"""The daily jobs: deactivation of moved-out accounts, home-insurance expiry reminders and
forgotten IBAN drafts, run once a day by ``python -m bot.cli daily-jobs``; running them again
changes nothing more."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import select, update
from sqlalchemy.orm import sessionmaker

from bot.app import jobs
from bot.cli import build_parser
from bot.policy.french_dates import today_in_france
from bot.portal.models import (
    AccountStatus,
    DirectDebitDraft,
    Household,
    RateLimitCounter,
    utcnow,
)
from bot.portal.services.direct_debit import remember_iban
from bot.settings import PROJECT_ROOT, Settings
from tests.portal.support import Mailbox, Portal, accounts_of, outbox, words

CLAIRE = "claire.dupont@example.org"


async def _move_out(sessions: sessionmaker, client_number: str, on: date) -> None:
    async with sessions.begin() as session:
        await session.execute(
            update(Household)
            .where(Household.client_number == client_number)
            .values(move_out_date=on)
        )


async def test_the_daily_jobs_run_once_per_day_whatever_how_often_they_are_started(
    sessions: sessionmaker, portal_settings: Settings
) -> None:
    today = date.today()
    await _move_out(sessions, "11223344", today - relativedelta(months=7))

    first = await jobs.run_daily_jobs(portal_settings, today)
    again = await jobs.run_daily_jobs(portal_settings, today)

    assert first == {
        "deactivated_accounts": 1,
        "insurance_reminders": 1,
        "expired_iban_drafts": 0,
        "indexed_conversations": 0,
        "expired_conversations": 0,
        "expired_rate_limit_counters": 0,
    }
    assert again == {
        "deactivated_accounts": 0,
        "insurance_reminders": 0,
        "expired_iban_drafts": 0,
        "indexed_conversations": 0,
        "expired_conversations": 0,
        "expired_rate_limit_counters": 0,
    }
    (nguyen,) = await accounts_of(sessions, "11223344")
    assert nguyen.status == AccountStatus.DEACTIVATED
    reminders = [e for e in await outbox(sessions) if e.template == "insurance_expiry_reminder"]
    assert [e.to_address for e in reminders] == [CLAIRE]


async def test_dupont_receives_the_reminder_by_email_once(portal: Portal, mailbox: Mailbox) -> None:
    today = date.today()
    assert (await jobs.run_daily_jobs(portal.settings, today))["insurance_reminders"] == 1
    await portal.deliver_now()
    email = await mailbox.wait_for(to=CLAIRE, subject="assurance habitation")
    text = words(email.text)
    assert "MAIF" in text and "P-000123" in text and "MON DOSSIER" in text

    assert (await jobs.run_daily_jobs(portal.settings, today))["insurance_reminders"] == 0
    await portal.snapshot()  # every queued email dealt with
    assert len(mailbox.emails(CLAIRE)) == 1


async def test_a_failing_job_does_not_stop_the_others(
    sessions: sessionmaker, portal_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(session, settings, today):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    monkeypatch.setattr(jobs, "DAILY_JOBS", {"broken": broken, **jobs.DAILY_JOBS})

    with pytest.raises(jobs.DailyJobsFailed) as failed:
        await jobs.run_daily_jobs(portal_settings, date.today())

    assert failed.value.failed == ["broken"]
    assert failed.value.results == {
        "deactivated_accounts": 0,
        "insurance_reminders": 1,
        "expired_iban_drafts": 0,
        "indexed_conversations": 0,
        "expired_conversations": 0,
        "expired_rate_limit_counters": 0,
    }


def test_daily_jobs_take_an_optional_reference_date() -> None:
    parser = build_parser()
    args = parser.parse_args(["daily-jobs", "--today", "2025-01-31"])
    assert (args.command, args.today) == ("daily-jobs", date(2025, 1, 31))
    assert parser.parse_args(["daily-jobs"]).today is None


async def test_the_operator_command_reports_what_it_did(
    sessions: sessionmaker, portal_settings: Settings
) -> None:
    env = {
        **os.environ,
        "ASSISTANT_VAR_DIR": str(portal_settings.var_dir),
        "PORTAL_DATABASE_URL": portal_settings.database_url,
    }
    command = [sys.executable, "-m", "bot.cli", "daily-jobs", "--today", date.today().isoformat()]

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60
        )

    first, second = run(), run()

    assert first.returncode == 0, first.stderr
    assert "1 rappel(s) d'échéance d'assurance habitation" in first.stdout
    assert "0 compte(s) désactivé(s)" in first.stdout
    assert "0 rappel(s)" in second.stdout


async def test_an_iban_typed_for_a_request_never_sent_is_dropped(
    sessions: sessionmaker, portal_settings: Settings
) -> None:
    async with sessions.begin() as session:
        household = await session.scalar(
            select(Household).where(Household.client_number == "87654321")
        )
        for conversation, hours in (("old", -1), ("live", 1)):
            await remember_iban(
                session=session,
                conversation_id=conversation,
                household_id=household.id,
                iban="FR7630006000011234567890189",
                expires_at=utcnow() + timedelta(hours=hours),
            )

    assert (await jobs.run_daily_jobs(portal_settings, date.today()))["expired_iban_drafts"] == 1
    async with sessions() as session:
        left = await session.scalars(select(DirectDebitDraft.conversation_id))
        assert list(left) == ["live"]


async def test_counters_of_past_windows_are_deleted_and_current_ones_kept(
    sessions: sessionmaker, portal_settings: Settings
) -> None:
    now = utcnow()
    async with sessions.begin() as session:
        for key, age in (("old", timedelta(days=3)), ("today", timedelta(hours=1))):
            session.add(RateLimitCounter(key=key, window_start=now - age, hits=4))

    # France's day, as `bot.cli daily-jobs` takes it: after midnight in Paris the machine's UTC
    # date is the day before, and the 3-day-old counter fell inside the kept windows.
    results = await jobs.run_daily_jobs(portal_settings, today_in_france())

    assert results["expired_rate_limit_counters"] == 1
    async with sessions() as session:
        assert list(await session.scalars(select(RateLimitCounter.key))) == ["today"]
