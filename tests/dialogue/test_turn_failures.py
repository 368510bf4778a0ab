"""A turn that fails (Redis or the tracker's database out of reach) is told to the tenant."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.exc import OperationalError

from bot.dialogue import turn_failures
from bot.dialogue.default_texts import DOMAIN, default_text, domain_default_text, rest_reply_json
from bot.dialogue.turn_failures import telling_failures
from bot.runner import replacements

UNAVAILABLE = "Le service est momentanément indisponible"


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(DOMAIN)


def message() -> tuple[UserMessage, CollectingOutputChannel]:
    channel = CollectingOutputChannel()
    return UserMessage("quels jours pour le prélèvement ?", channel, "rest:abc"), channel


def test_a_failed_turn_tells_the_tenant_in_french(domain: Domain) -> None:
    async def lock_store_down(agent: object, message: UserMessage) -> None:
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    sent, channel = message()
    result = asyncio.run(telling_failures(lock_store_down)(SimpleNamespace(domain=domain), sent))

    assert result is None
    assert [m["recipient_id"] for m in channel.messages] == ["rest:abc"]
    assert channel.messages[0]["text"].startswith(UNAVAILABLE)


def test_a_turn_that_works_is_left_alone(domain: Domain) -> None:
    async def answered(agent: object, message: UserMessage) -> list[str]:
        await message.output_channel.send_text_message(message.sender_id, "le 2, le 7 ou le 10")
        return ["done"]

    sent, channel = message()
    result = asyncio.run(telling_failures(answered)(SimpleNamespace(domain=domain), sent))

    assert result == ["done"]
    assert [m["text"] for m in channel.messages] == ["le 2, le 7 ou le 10"]


def test_a_cancelled_turn_is_not_answered(domain: Domain) -> None:
    async def cancelled(agent: object, message: UserMessage) -> None:
        raise asyncio.CancelledError

    sent, channel = message()
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(telling_failures(cancelled)(SimpleNamespace(domain=domain), sent))
    assert channel.messages == []


def test_the_default_text_is_the_unconditioned_french_variant(domain: Domain) -> None:
    assert default_text(domain.responses, "utter_service_unavailable").startswith(UNAVAILABLE)
    assert domain_default_text("utter_service_unavailable").startswith(UNAVAILABLE)
    with pytest.raises(KeyError):
        default_text({"utter_x": [{"text": "en", "condition": [{"type": "slot"}]}]}, "utter_x")


def test_the_rest_reply_fits_a_single_quoted_nginx_string() -> None:
    body = rest_reply_json("Réessayez, s'il vous plaît.")
    assert "'" not in body and body.isascii()
    assert json.loads(body) == [{"text": "Réessayez, s'il vous plaît."}]


class FlakyStore(InMemoryTrackerStore):
    """A tracker store whose database is out of reach for its first ``failures`` calls."""

    def __init__(self, domain: Domain, failures: int) -> None:
        super().__init__(domain)
        self.failures = failures

    def _down(self) -> None:
        if self.failures:
            self.failures -= 1
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        self._down()
        return await super().retrieve(sender_id)

    async def save(self, tracker: DialogueStateTracker) -> None:
        self._down()
        await super().save(tracker)


@pytest.fixture
def no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(turn_failures, "RETRY_PAUSES", (0.0, 0.0, 0.0, 0.0))


def failsafe(store: FlakyStore) -> FailSafeTrackerStore:
    wrapped = FailSafeTrackerStore(store)
    replacements.install(turn_failures.REPLACEMENTS[1:])
    return wrapped


@pytest.fixture
def restore_failsafe() -> Iterator[None]:
    saved = {name: FailSafeTrackerStore.__dict__[name] for name in STORE_METHODS}
    yield
    for name, method in saved.items():
        setattr(FailSafeTrackerStore, name, method)


STORE_METHODS = ("retrieve", "retrieve_full_tracker", "save")


def test_a_database_back_within_seconds_loses_nothing(
    domain: Domain, no_pauses: None, restore_failsafe: None
) -> None:
    store = FlakyStore(domain, failures=3)
    tracker = DialogueStateTracker.from_events("rest:abc", [UserUttered("bonjour")])

    asyncio.run(failsafe(store).save(tracker))
    store.failures = 2
    read = asyncio.run(failsafe(store).retrieve("rest:abc"))

    assert read is not None and read.latest_message.text == "bonjour"


def test_a_database_still_down_fails_the_turn_instead_of_forgetting_it(
    domain: Domain, no_pauses: None, restore_failsafe: None
) -> None:
    store = FlakyStore(domain, failures=100)
    tracker = DialogueStateTracker.from_events("rest:abc", [UserUttered("bonjour")])

    # Rasa's FailSafeTrackerStore answered "no such conversation" and saved in memory.
    with pytest.raises(OperationalError):
        asyncio.run(failsafe(store).retrieve("rest:abc"))
    with pytest.raises(OperationalError):
        asyncio.run(failsafe(store).save(tracker))
    assert store.failures == 100 - 2 * (len(turn_failures.RETRY_PAUSES) + 1)
