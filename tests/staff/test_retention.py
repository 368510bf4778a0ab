"""The retention period: messages older than ``TRANSCRIPT_RETENTION_DAYS`` leave the tracker
store and the portal (index, tags, verification records, handoffs); the job is idempotent and
the console's index keeps listing what Rasa writes afterwards."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import sessionmaker

from bot.app.jobs import run_daily_jobs
from bot.policy.french_dates import FRANCE, today_in_france
from bot.portal.models import (
    ConversationGrant,
    ConversationSummary,
    ConversationTag,
    HandoffRequest,
    ReviewStatus,
    utcnow,
)
from bot.settings import Settings
from bot.staff.retention import tracker_writes
from bot.staff.retention.transcripts import purge_expired_transcripts
from bot.staff.transcripts.synthetic import (
    Turn,
    conversation_rows,
    create_events_table,
    write_rows,
)
from tests.staff.support import RasaEvents
from tests.staff.test_transcripts import HELLO, grant, refresh, summaries

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=FRANCE)
DAY = 86_400.0
OLD_TEXT = Turn("ma vieille question sur le chauffage", "out_of_scope")
RECENT_TEXT = Turn("ma question de cette semaine sur le loyer", "ask_balance")


def days_ago(days: float) -> float:
    return NOW.timestamp() - days * DAY


async def tracker_rows(settings: Settings, sender: str | None = None) -> list[tuple[str, float]]:
    engine = create_async_engine(settings.resolved_tracker_database_url)
    try:
        async with engine.connect() as connection:
            query = "SELECT sender_id, timestamp FROM events"
            params = {}
            if sender is not None:
                query += " WHERE sender_id = :sender"
                params["sender"] = sender
            return [tuple(row) for row in await connection.execute(text(query), params)]
    finally:
        await engine.dispose()


async def purge(sessions: sessionmaker, settings: Settings, now: datetime = NOW) -> int:
    async with sessions.begin() as session:
        return await purge_expired_transcripts(session=session, settings=settings, now=now)


async def tag(sessions: sessionmaker, conversation_id: str, name: str) -> None:
    async with sessions.begin() as session:
        summary_id = await session.scalar(
            select(ConversationSummary.id).where(
                ConversationSummary.conversation_id == conversation_id
            )
        )
        session.add(ConversationTag(summary_id=summary_id, tag=name))


async def count(sessions: sessionmaker, model, **where: object) -> int:
    async with sessions() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return await session.scalar(query)


async def test_messages_past_the_retention_period_are_deleted_everywhere(
    sessions: sessionmaker, portal_settings: Settings, rasa: RasaEvents
) -> None:
    settings = portal_settings.with_overrides(transcript_retention_days=180)
    await rasa.talk("old-web", OLD_TEXT, start=days_ago(200))
    await rasa.talk("tg-42", OLD_TEXT, start=days_ago(190), channel="telegram")
    await rasa.talk("tg-42", RECENT_TEXT, start=days_ago(3), channel="telegram")  # same chat
    await rasa.talk("new-web", HELLO, start=days_ago(179))
    await grant(sessions, "old-web")
    await refresh(sessions, settings)
    await tag(sessions, "old-web", "à revoir")
    async with sessions.begin() as session:
        session.add(
            HandoffRequest(
                conversation_id="old-web",
                channel="socketio",
                reason="asked",
                created_at=NOW - timedelta(days=200),
                closed_at=NOW - timedelta(days=199),
            )
        )
        tg = await session.scalar(
            select(ConversationSummary).where(ConversationSummary.conversation_id == "tg-42")
        )
        tg.review_status = ReviewStatus.REVIEWED

    assert await purge(sessions, settings) == 2  # one deleted, one shortened

    assert {sender for sender, _ in await tracker_rows(settings)} == {"tg-42", "new-web"}
    assert min(at for _, at in await tracker_rows(settings, "tg-42")) >= days_ago(3)
    listed = await summaries(sessions)
    assert set(listed) == {"tg-42", "new-web"}
    telegram = listed["tg-42"]
    assert telegram.turns == 1
    assert "chauffage" not in telegram.search_text and "loyer" in telegram.search_text
    assert telegram.intents == " ask_balance "
    assert telegram.review_status == ReviewStatus.REVIEWED  # staff's work stays
    assert await count(sessions, ConversationTag) == 0
    assert await count(sessions, ConversationGrant) == 0
    assert await count(sessions, HandoffRequest) == 0

    rows = await tracker_rows(settings)
    assert await purge(sessions, settings) == 0  # idempotent
    assert await tracker_rows(settings) == rows
    assert set(await summaries(sessions)) == {"tg-42", "new-web"}


async def test_what_rasa_writes_after_a_purge_is_still_indexed(
    sessions: sessionmaker, portal_settings: Settings, rasa: RasaEvents
) -> None:
    # The old conversation holds the newest ids: SQLite gives them again once deleted, and
    # the next conversation goes past where the index had got to.
    await rasa.talk("recent", HELLO, start=days_ago(1))
    await rasa.talk("old", OLD_TEXT, start=days_ago(400))
    await refresh(sessions, portal_settings)

    assert await purge(sessions, portal_settings) == 1
    await rasa.talk("after", RECENT_TEXT, HELLO, RECENT_TEXT, start=days_ago(0))
    await refresh(sessions, portal_settings)

    listed = await summaries(sessions)
    assert set(listed) == {"recent", "after"}
    assert (listed["recent"].turns, listed["after"].turns) == (1, 3)


async def test_an_index_row_whose_conversation_already_left_the_store_goes_too(
    sessions: sessionmaker, portal_settings: Settings, rasa: RasaEvents
) -> None:
    await rasa.talk("gone", OLD_TEXT, start=days_ago(300))
    await refresh(sessions, portal_settings)
    async with rasa.engine.begin() as connection:  # e.g. a run that stopped half-way
        await connection.execute(text("DELETE FROM events"))

    assert await purge(sessions, portal_settings) == 1
    assert await summaries(sessions) == {}


async def test_before_rasa_ever_ran_there_is_nothing_to_purge(
    sessions: sessionmaker, portal_settings: Settings
) -> None:
    assert await purge(sessions, portal_settings) == 0
    assert not (portal_settings.var_dir / "tracker.db").exists()


async def test_the_daily_jobs_apply_the_retention_period(
    sessions: sessionmaker, portal_settings: Settings, rasa: RasaEvents
) -> None:
    # The day the daily jobs run is France's, as `bot.cli daily-jobs` takes it (near midnight
    # the machine's own date is the day before).
    today = today_in_france()
    await rasa.talk("year-old", OLD_TEXT, start=utcnow().timestamp() - 366 * DAY)
    await rasa.talk("fresh", HELLO, start=utcnow().timestamp() - DAY)
    settings = portal_settings.with_overrides(transcript_retention_days=365)

    first = await run_daily_jobs(settings, today)
    again = await run_daily_jobs(settings, today)

    assert (first["expired_conversations"], again["expired_conversations"]) == (1, 0)
    assert set(await summaries(sessions)) == {"fresh"}


@pytest.mark.postgres
async def test_a_postgresql_tracker_store_is_trimmed(postgres_url: str) -> None:
    writer = create_async_engine(postgres_url)
    try:
        async with writer.begin() as connection:
            await connection.execute(text("DROP TABLE IF EXISTS events"))
        await create_events_table(writer)
        await write_rows(writer, conversation_rows("pg-old", [OLD_TEXT], start=days_ago(200)))
        await write_rows(writer, conversation_rows("pg-new", [HELLO], start=days_ago(2)))
        async with tracker_writes.writable(postgres_url) as connection:
            trimmed = await tracker_writes.delete_before(connection, days_ago(180))
        async with writer.connect() as connection:
            left = set(await connection.scalars(text("SELECT DISTINCT sender_id FROM events")))
    finally:
        async with writer.begin() as connection:
            await connection.execute(text("DROP TABLE IF EXISTS events"))
        await writer.dispose()
    assert (trimmed.emptied, trimmed.shortened, left) == (["pg-old"], [], {"pg-new"})
    assert trimmed.events == len(conversation_rows("x", [OLD_TEXT], start=0))


@pytest.mark.parametrize("value", ["0", "-5", "six mois", "1.5"])
def test_a_retention_period_that_is_not_a_number_of_days_stops_start_up(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRANSCRIPT_RETENTION_DAYS", value)
    with pytest.raises(RuntimeError, match="TRANSCRIPT_RETENTION_DAYS"):
        Settings.from_env()


def test_the_retention_period_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRANSCRIPT_RETENTION_DAYS", raising=False)
    assert Settings.from_env().transcript_retention_days == 180
    monkeypatch.setenv("TRANSCRIPT_RETENTION_DAYS", "90")
    assert Settings.from_env().transcript_retention_days == 90
