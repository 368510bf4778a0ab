"""``PooledSQLTrackerStore`` reads and writes exactly what Rasa's ``SQLTrackerStore`` does, on
a real SQLite file, with its connections kept and the file in write-ahead-log mode (issue 11):
the conversation read back is the same, a later session hides the earlier one as in Rasa, two
Rasa servers on one store never write an event twice, and the staff console's read-only
connection still reads the conversation while Rasa is writing it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, text

from bot.dialogue.sql_tracker_store import PooledSQLTrackerStore
from bot.settings import PROJECT_ROOT
from bot.staff.transcripts.tracker import readonly_url

SENDER = "conv-store-1"


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(PROJECT_ROOT / "domain.yml")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "tracker.db"


def pooled(domain: Domain, db_path: Path) -> PooledSQLTrackerStore:
    return PooledSQLTrackerStore(domain=domain, dialect="sqlite", db=str(db_path))


def rasas(domain: Domain, db_path: Path) -> SQLTrackerStore:
    return SQLTrackerStore(domain=domain, dialect="sqlite", db=str(db_path))


def turn(text: str, intent: str, *events: object) -> list[object]:
    user = UserUttered(text, {"name": intent, "confidence": 0.93}, [], {"text": text})
    return [user, *events, ActionExecuted("action_listen")]


CONVERSATION = [
    [SessionStarted(timestamp=1.0), ActionExecuted("action_listen", timestamp=1.0)],
    turn(
        "je veux m'inscrire",
        "register",
        ActionExecuted("registration_form"),
        ActiveLoop("registration_form"),
        SlotSet("requested_slot", "client_number"),
        BotUttered("Quel est votre numéro de client ?"),
    ),
    turn(
        "12345678",
        "inform",
        SlotSet("client_number", "12345678"),
        ActionExecuted("registration_form"),
        SlotSet("requested_slot", "email"),
        BotUttered("Votre adresse e-mail ?"),
    ),
]


async def play(store: SQLTrackerStore, turns: list[list[object]], sender: str = SENDER) -> None:
    """Each turn as Rasa runs it: the tracker read (or created), its new events, saved."""
    for events in turns:
        tracker = await store.retrieve(sender) or store.init_tracker(sender)
        for event in events:
            tracker.update(event)
        await store.save(tracker)


def count(turns: list[list[object]]) -> int:
    return sum(len(events) for events in turns)


def rows(db_path: Path) -> list[tuple[str, str, str | None, str | None]]:
    with sqlite3.connect(db_path) as connection:
        return connection.execute(
            "SELECT sender_id, type_name, intent_name, action_name FROM events ORDER BY id"
        ).fetchall()


def states(tracker: DialogueStateTracker | None) -> tuple[list[dict], dict, dict]:
    assert tracker is not None
    return (
        [event.as_dict() for event in tracker.events],
        tracker.current_slot_values(),
        tracker.active_loop,
    )


async def test_it_writes_the_rows_rasas_store_writes(domain: Domain, tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours.db", tmp_path / "rasa.db"
    await play(pooled(domain, ours), CONVERSATION)
    await play(rasas(domain, theirs), CONVERSATION)
    assert rows(ours) == rows(theirs)
    assert len(rows(ours)) == count(CONVERSATION)


async def test_it_reads_back_the_conversation_rasas_store_reads(
    domain: Domain, db_path: Path
) -> None:
    await play(pooled(domain, db_path), CONVERSATION)
    ours = await pooled(domain, db_path).retrieve(SENDER)
    theirs = await rasas(domain, db_path).retrieve(SENDER)
    assert states(ours) == states(theirs)
    assert ours.get_slot("client_number") == "12345678"
    assert ours.active_loop_name == "registration_form"


async def test_a_new_session_hides_the_earlier_one_unless_all_sessions_are_asked(
    domain: Domain, db_path: Path
) -> None:
    store = pooled(domain, db_path)
    await play(store, CONVERSATION)
    await play(
        store,
        [[SessionStarted(timestamp=9e9), ActionExecuted("action_listen", timestamp=9e9)]],
    )
    latest, everything = await store.retrieve(SENDER), await store.retrieve_full_tracker(SENDER)
    assert states(latest) == states(await rasas(domain, db_path).retrieve(SENDER))
    assert len(latest.events) == 2
    assert latest.get_slot("client_number") is None
    assert states(everything) == states(await rasas(domain, db_path).retrieve_full_tracker(SENDER))
    assert len(everything.events) == len(rows(db_path))


async def test_an_unknown_conversation_is_none(domain: Domain, db_path: Path) -> None:
    assert await pooled(domain, db_path).retrieve("nobody") is None


async def test_two_servers_on_one_store_never_write_an_event_twice(
    domain: Domain, db_path: Path
) -> None:
    first, second = pooled(domain, db_path), pooled(domain, db_path)
    await play(first, CONVERSATION[:2])
    await play(second, CONVERSATION[2:])  # the next message reached the other server
    await play(first, [turn("merci", "thank")])
    assert [row[1] for row in rows(db_path)] == [
        event.type_name for events in [*CONVERSATION, turn("merci", "thank")] for event in events
    ]


async def test_the_file_is_in_write_ahead_log_mode_with_kept_connections(
    domain: Domain, db_path: Path
) -> None:
    store = pooled(domain, db_path)
    await play(store, CONVERSATION)
    with sqlite3.connect(db_path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert store.engine.pool.checkedin() >= 1


async def test_the_staff_read_only_connection_reads_while_rasa_writes(
    domain: Domain, db_path: Path
) -> None:
    store = pooled(domain, db_path)
    await play(store, CONVERSATION[:2])
    reader = create_engine(readonly_url(f"sqlite:///{db_path}"))
    with reader.connect() as connection:
        query = text("SELECT count(*) FROM events WHERE sender_id = :sender")
        assert connection.execute(query, {"sender": SENDER}).scalar_one() == count(CONVERSATION[:2])
        await play(store, CONVERSATION[2:])
        assert connection.execute(query, {"sender": SENDER}).scalar_one() == count(CONVERSATION)
        with pytest.raises(Exception, match="readonly"):
            connection.execute(text("DELETE FROM events"))
