"""``MaskingSQLTrackerStore`` on a real SQLite file: the stored rows are read back with sqlite3."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from bot.privacy.logging import uninstall_log_redaction
from bot.privacy.redaction import CARD_MARK, CODE_MARK, IBAN_MARK
from bot.privacy.tracker_store import MaskingSQLTrackerStore
from bot.settings import PROJECT_ROOT

IBAN = "FR76 3000 6000 0112 3456 7890 189"
IBAN_COMPACT = IBAN.replace(" ", "")
CARD = "4970 1012 3456 7893"
CODE = "482913"
SECRETS = (IBAN, IBAN_COMPACT, CARD, CARD.replace(" ", ""), CODE)
SENDER = "conv-privacy-1"

SENSITIVE_SLOTS = ("iban", "verification_code")


@pytest.fixture(scope="module")
def domain() -> Domain:
    """The project's domain, plus the sensitive slots it does not declare (yet)."""
    project = Domain.load(PROJECT_ROOT / "domain.yml")
    declared = {slot.name for slot in project.slots}
    extra = {
        name: {"type": "text", "influence_conversation": False, "mappings": [{"type": "custom"}]}
        for name in SENSITIVE_SLOTS
        if name not in declared
    }
    return project.merge(Domain.from_dict({"slots": extra})) if extra else project


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    yield  # the store installs log redaction for the Rasa process; not for the test session
    uninstall_log_redaction()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "tracker.db"


@pytest.fixture
def store(domain: Domain, db_path: Path) -> MaskingSQLTrackerStore:
    return MaskingSQLTrackerStore(domain=domain, dialect="sqlite", db=str(db_path))


def stored_rows(db_path: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db_path) as connection:
        return connection.execute(
            "SELECT sender_id, type_name, data FROM events ORDER BY id"
        ).fetchall()


def user(text: str, entities: list[dict] | None = None) -> UserUttered:
    intent = {"name": "inform", "confidence": 0.9}
    entities = entities or []
    parse_data = {"text": text, "intent": intent, "entities": entities}
    return UserUttered(text, intent, entities, parse_data, input_channel="rest")


async def a_turn_with_secrets(store: MaskingSQLTrackerStore) -> DialogueStateTracker:
    tracker = await store.get_or_create_tracker(SENDER)
    iban_entity = {"entity": "iban", "value": IBAN_COMPACT, "start": 9, "end": 42}
    tracker.update_with_events(
        [
            user(f"mon IBAN {IBAN}, ma carte {CARD}", [iban_entity]),
            SlotSet("iban", IBAN_COMPACT),
            SlotSet("client_number", "87654321"),
            BotUttered(f"J'ai bien noté {IBAN}."),
            ActionExecuted("action_listen"),
            user(f"le code est {CODE}"),
            SlotSet("verification_code", CODE),
            ActionExecuted("action_listen"),
        ],
        store.domain,
    )
    await store.save(tracker)
    return tracker


async def test_stored_rows_hold_markers_not_secrets(
    store: MaskingSQLTrackerStore, db_path: Path
) -> None:
    await a_turn_with_secrets(store)

    rows = stored_rows(db_path)
    raw = "\n".join(data for _sender, _type, data in rows)
    decoded = json.dumps([json.loads(data) for _s, _t, data in rows], ensure_ascii=False)
    for secret in SECRETS:
        assert secret not in raw
        assert secret not in decoded
    for marker in (IBAN_MARK, CARD_MARK, CODE_MARK):
        assert marker in decoded
    slots = {
        event["name"]: event["value"]
        for event in (json.loads(data) for _s, kind, data in rows if kind == "slot")
    }
    assert slots["iban"] == IBAN_MARK
    assert slots["verification_code"] == CODE_MARK
    assert slots["client_number"] == "87654321"  # not a secret: staff need it


async def test_live_tracker_keeps_the_real_values(store: MaskingSQLTrackerStore) -> None:
    tracker = await a_turn_with_secrets(store)

    assert tracker.get_slot("iban") == IBAN_COMPACT
    assert tracker.get_slot("verification_code") == CODE
    assert IBAN in next(e.text for e in tracker.events if isinstance(e, UserUttered))


async def test_one_row_per_event_across_saves(store: MaskingSQLTrackerStore, db_path: Path) -> None:
    tracker = await a_turn_with_secrets(store)
    tracker.update(user(f"et l'autre carte {CARD.replace(' ', '-')}"), store.domain)
    await store.save(tracker)
    await store.save(tracker)  # nothing new: nothing written

    rows = stored_rows(db_path)
    assert len(rows) == len(tracker.events)
    assert [kind for _s, kind, _d in rows] == [e.type_name for e in tracker.events]
    assert {sender for sender, _k, _d in rows} == {SENDER}


async def test_retrieve_rebuilds_the_redacted_conversation(
    store: MaskingSQLTrackerStore,
) -> None:
    live = await a_turn_with_secrets(store)

    reloaded = await store.retrieve(SENDER)

    assert reloaded is not None
    assert len(reloaded.events) == len(live.events)
    # what the next turn sees: markers, not values (see the tracker_store module docstring)
    assert reloaded.get_slot("iban") == IBAN_MARK
    assert reloaded.get_slot("verification_code") == CODE_MARK
    assert reloaded.get_slot("client_number") == "87654321"
    assert reloaded.latest_message.text == f"le code est {CODE_MARK}"
    assert reloaded.latest_message.intent["name"] == "inform"
    texts = [e.text for e in reloaded.events if isinstance(e, UserUttered | BotUttered)]
    assert texts == [
        f"mon IBAN {IBAN_MARK}, ma carte {CARD_MARK}",
        f"J'ai bien noté {IBAN_MARK}.",
        f"le code est {CODE_MARK}",
    ]


class CollectingBroker:
    def __init__(self) -> None:
        self.published: list[dict] = []

    def publish(self, event: dict) -> None:
        self.published.append(event)


async def test_event_broker_gets_redacted_events(domain: Domain, db_path: Path) -> None:
    broker = CollectingBroker()
    store = MaskingSQLTrackerStore(
        domain=domain, dialect="sqlite", db=str(db_path), event_broker=broker
    )

    await a_turn_with_secrets(store)

    dump = json.dumps(broker.published, ensure_ascii=False)
    assert broker.published and all(e["sender_id"] == SENDER for e in broker.published)
    for secret in SECRETS:
        assert secret not in dump
    assert IBAN_MARK in dump


async def test_sensitive_slots_come_from_the_endpoint_config(domain: Domain, db_path: Path) -> None:
    store = MaskingSQLTrackerStore(
        domain=domain, dialect="sqlite", db=str(db_path), sensitive_slots=["client_number"]
    )
    await a_turn_with_secrets(store)
    dump = "\n".join(data for _s, _k, data in stored_rows(db_path))
    assert "87654321" not in dump
    assert IBAN not in dump  # still redacted as text, in messages and in the slot


def test_endpoints_yml_builds_this_store(
    domain: Domain, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rasa falls back to an in-memory store, with a mere warning, if the class can't load."""
    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:5055/webhook")
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "a-token")
    monkeypatch.setenv("RASA_TRACKER_DIALECT", "sqlite")
    monkeypatch.setenv("RASA_TRACKER_HOST", "")
    monkeypatch.setenv("RASA_TRACKER_DB", str(db_path))
    config = read_endpoint_config(str(PROJECT_ROOT / "endpoints.yml"), "tracker_store")

    store = TrackerStore.create(config, domain)

    assert isinstance(store, MaskingSQLTrackerStore)
    assert str(store.engine.url).endswith(str(db_path))


#: What the review of issue 9 typed and found in ``events.data`` in clear.
ISSUE_9_SECRETS = {
    "FR 76 3000 6000 0112 3456 7890 189": "FR 76",
    "ma carte 4970.1012.3456.7893": "4970.1012",
    "le cvv est 123": "est 123",
    "mon mot de passe c'est Soleil2024!": "Soleil2024",
    "le code est 4 8 2 9 1 3": "4 8 2 9 1 3",
}


@pytest.mark.parametrize(("typed", "secret"), ISSUE_9_SECRETS.items(), ids=list(ISSUE_9_SECRETS))
async def test_spaced_and_dotted_secrets_are_not_stored(
    store: MaskingSQLTrackerStore, db_path: Path, typed: str, secret: str
) -> None:
    tracker = await store.get_or_create_tracker(SENDER)
    tracker.update(user(typed), store.domain)
    await store.save(tracker)

    dump = "\n".join(data for _s, _k, data in stored_rows(db_path))
    assert secret not in dump


async def test_the_sqlite_file_is_readable_by_its_owner_only(
    store: MaskingSQLTrackerStore, db_path: Path
) -> None:
    await a_turn_with_secrets(store)

    assert db_path.stat().st_mode & 0o777 == 0o600
