"""The Rasa server's turn metrics, driven through the wrappers the entry point installs, with a
processor that stands for Rasa's (no model is trained or loaded here)."""

from __future__ import annotations

import asyncio
import secrets
import socket

import httpx
import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic

from bot.runner import rasa_metrics, rasa_probes
from bot.runner.rasa_main import all_replacements
from bot.runner.replacements import install
from bot.settings import Settings
from tests.portal.support import serve


class FakeProcessor:
    """Rasa's ``handle_message`` in short: parse (the intent is given), run the prediction
    loop, which appends ``actions``; wrapped as the entry point wraps Rasa's."""

    def __init__(self, intent: str, actions: list[str], *, fails: bool = False) -> None:
        self.intent, self.actions, self.fails = intent, actions, fails

    async def _handle_message(self, message: UserMessage) -> list:
        tracker = DialogueStateTracker(message.sender_id, slots=[])
        tracker.update(ActionExecuted("action_listen"))
        tracker.update(UserUttered(message.text, intent={"name": self.intent}))
        await self._run_prediction_loop(message.output_channel, tracker)
        return []

    async def _prediction_loop(self, _output: object, tracker: DialogueStateTracker) -> None:
        for action in self.actions:
            tracker.update(ActionExecuted(action))
        if self.fails:
            raise RuntimeError("the action server is gone")

    handle_message = rasa_metrics.counting_turns(_handle_message)
    _run_prediction_loop = rasa_metrics.watching_fallbacks(_prediction_loop)


def value(name: str, channel: str) -> float:
    return rasa_metrics.REGISTRY.get_sample_value(name, {"channel": channel}) or 0.0


def turn(channel: str, intent: str, actions: list[str], **kwargs: bool) -> None:
    message = UserMessage("bonjour", CollectingOutputChannel(), "tenant-42", input_channel=channel)
    asyncio.run(FakeProcessor(intent, actions, **kwargs).handle_message(message))


@pytest.fixture(autouse=True)
def known_channels() -> None:
    rasa_metrics.know_channels({"socketio", "telegram"})


def test_a_turn_is_counted_and_timed_by_channel() -> None:
    before = (
        value("rasa_turns_total", "socketio"),
        value("rasa_turn_duration_seconds_count", "socketio"),
        value("rasa_fallbacks_total", "socketio"),
    )

    turn("socketio", "greet", ["utter_greet", "action_listen"])

    assert value("rasa_turns_total", "socketio") == before[0] + 1
    assert value("rasa_turn_duration_seconds_count", "socketio") == before[1] + 1
    assert value("rasa_fallbacks_total", "socketio") == before[2]


@pytest.mark.parametrize(
    ("intent", "actions"),
    [
        ("nlu_fallback", ["action_suggest_topics", "action_listen"]),
        ("ask_balance", ["action_default_fallback", "action_listen"]),
    ],
    ids=["nlu", "core"],
)
def test_fallbacks_are_counted(intent: str, actions: list[str]) -> None:
    before = value("rasa_fallbacks_total", "telegram")

    turn("telegram", intent, actions)

    assert value("rasa_fallbacks_total", "telegram") == before + 1


def test_an_understood_turn_is_no_fallback() -> None:
    before = value("rasa_fallbacks_total", "telegram"), value("rasa_turns_total", "telegram")

    turn("telegram", "ask_balance", ["action_show_balance", "action_listen"])

    assert value("rasa_fallbacks_total", "telegram") == before[0]
    assert value("rasa_turns_total", "telegram") == before[1] + 1


def test_a_failed_turn_is_still_counted() -> None:
    before = value("rasa_turns_total", "socketio")

    with pytest.raises(RuntimeError):
        turn("socketio", "greet", ["action_default_fallback"], fails=True)

    assert value("rasa_turns_total", "socketio") == before + 1


def test_a_channel_name_from_the_request_is_not_a_label() -> None:
    """The REST channel takes ``input_channel`` from the body: unknown names are ``other``."""
    before = value("rasa_turns_total", "other")

    turn("tenant-42-FR7630006000011234567890189", "greet", [])

    assert value("rasa_turns_total", "other") == before + 1
    exposition = rasa_metrics.REGISTRY.get_sample_value  # no series named after the sender
    assert (
        exposition("rasa_turns_total", {"channel": "tenant-42-FR7630006000011234567890189"}) is None
    )


def test_the_entry_point_installs_the_wrappers(rasas_own: None) -> None:
    install(all_replacements())

    assert MessageProcessor.handle_message.__name__ == "measured_handle_message"
    assert MessageProcessor._run_prediction_loop.__name__ == "watched_prediction_loop"
    import rasa.core.run

    assert rasa.core.run.configure_app is rasa_probes.configure_app_with_probes


@pytest.mark.parametrize("env", ["development", "production"])
async def test_rasa_metrics_endpoint(
    env: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Sanic, "test_mode", True)
    app = Sanic(f"rasa_metrics_{secrets.token_hex(4)}")
    rasa_probes.add_probes(app, settings.with_overrides(env=env, service_token="jeton-service"))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    async with serve(app, sock), httpx.AsyncClient(base_url=url, timeout=10) as client:
        anonymous = await client.get("/metrics")
        scraper = await client.get("/metrics", headers={"Authorization": "Bearer jeton-service"})
    sock.close()

    assert anonymous.status_code == (200 if env == "development" else 401)
    assert scraper.status_code == 200
    assert "rasa_turns_total" in scraper.text and "rasa_fallbacks_total" in scraper.text
