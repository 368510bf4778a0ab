"""The Rasa server's speed-ups keep Rasa's behaviour (issue 11): an action server's reply is
accepted or refused exactly as Rasa 3.6 does, without checking the schema at every reply; a
model loaded without Rasa's training step understands and decides exactly as Rasa's loading."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import ActionExecuted, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses
from rasa.utils.endpoints import EndpointConfig
from rasa.utils.tensorflow.models import RasaModel

from bot.runner import rasa_main, rasa_speedups

VALID_REPLIES: list[dict[str, Any]] = [
    {"events": [], "responses": []},
    {
        "events": [
            {"event": "slot", "timestamp": None, "name": "email", "value": "a@example.org"},
            {"event": "active_loop", "name": "registration_form"},
            {"event": "slot", "name": "requested_slot", "value": "client_number"},
        ],
        "responses": [{"response": "utter_ask_client_number", "template": None}],
    },
    {"events": [{"event": "followup", "name": "action_listen"}], "responses": []},
    {"events": [{"event": "session_started"}, {"event": "action", "name": "action_listen"}]},
    {"responses": [{"text": "Bonjour", "buttons": [{"title": "Oui", "payload": "/affirm"}]}]},
]

INVALID_REPLIES: list[dict[str, Any]] = [
    {"events": "slot"},
    {"events": [{"event": "slot", "name": 3}]},
    {"events": [{"event": "no_such_event"}]},
    {"events": [], "responses": ["Bonjour"]},
]


@pytest.fixture
def action() -> RemoteAction:
    return RemoteAction("action_validate_registration_form", EndpointConfig("http://127.0.0.1"))


@pytest.fixture
def installed(rasas_own: None) -> None:
    rasa_speedups.install()


def rasa_accepts(action: RemoteAction, reply: dict[str, Any]) -> bool:
    try:
        return rasa_speedups._rasa_validate_action_result(action, reply)
    except ValidationError:
        return False


@pytest.mark.parametrize("reply", VALID_REPLIES + INVALID_REPLIES)
def test_a_reply_is_accepted_exactly_when_rasa_accepts_it(
    action: RemoteAction, installed: None, reply: dict[str, Any]
) -> None:
    try:
        accepted = action._validate_action_result(reply)
    except ValidationError:
        accepted = False
    assert accepted == rasa_accepts(action, reply)
    assert accepted == (reply in VALID_REPLIES)


def test_a_refused_reply_raises_rasas_own_error(action: RemoteAction, installed: None) -> None:
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result({"events": [{"event": "slot", "name": 3}]})


def test_the_schema_is_checked_once_not_at_every_reply(
    action: RemoteAction, installed: None
) -> None:
    rasa_speedups.action_result_validator()
    validator_class = type(rasa_speedups.action_result_validator())
    with mock.patch.object(validator_class, "check_schema") as check_schema:
        for reply in VALID_REPLIES * 3:
            assert action._validate_action_result(reply) is True
    check_schema.assert_not_called()


def test_the_rasa_server_entry_point_installs_them(
    monkeypatch: pytest.MonkeyPatch, rasas_own: None
) -> None:
    monkeypatch.setattr(sys, "argv", ["rasa_main.py", "--version"])
    with mock.patch("rasa.__main__.main") as rasa_cli:
        rasa_main.main()
    rasa_cli.assert_called_once()
    assert RemoteAction._validate_action_result is rasa_speedups.validate_action_result
    assert RasaModel.load.__func__ is rasa_speedups.load_model_for_prediction
    assert EndpointConfig.session is rasa_speedups.pooled_session
    assert Event.resolve_by_type is rasa_speedups.resolve_event_type


def event_type_names() -> list[str]:
    return sorted({event_class.type_name for event_class in all_subclasses(Event)})


@pytest.mark.parametrize("type_name", event_type_names())
def test_an_event_type_resolves_to_rasas_class(installed: None, type_name: str) -> None:
    assert Event.resolve_by_type(type_name) is rasa_speedups._rasa_resolve_by_type(type_name)


def test_stored_events_read_back_as_with_rasas_lookup(installed: None) -> None:
    events = [
        {"event": "session_started"},
        {"event": "action", "name": "action_listen"},
        {
            "event": "user",
            "text": "je veux m'inscrire",
            "parse_data": {"intent": {"name": "register"}},
        },
        {"event": "slot", "name": "client_number", "value": "12345678"},
        {"event": "active_loop", "name": "registration_form"},
        {"event": "bot", "text": "Votre numéro de client ?"},
    ]
    assert [type(Event.from_parameters(event)) for event in events] == [
        rasa_speedups._rasa_resolve_by_type(event["event"]) for event in events
    ]


def test_unknown_and_old_event_types_behave_as_in_rasa(installed: None) -> None:
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", default=ActionExecuted) is ActionExecuted
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        Event.resolve_by_type("no_such_event")


def test_an_event_class_imported_after_the_first_lookup_is_found(installed: None) -> None:
    Event.resolve_by_type("user")

    class LateEvent(ActionExecuted):
        type_name = "late_event_for_the_test"

    assert Event.resolve_by_type("late_event_for_the_test") is LateEvent


MESSAGES = [
    "bonjour",
    "je veux m'inscrire",
    "quels jours pour le prélèvement ?",
    "combien de temps pour valider mon assurance",
    "I forgot my password",
    "non merci",
    "12345678",
    "le site marche pas",
]


def understanding_and_decisions(agent: Any) -> list[Any]:
    """What the agent makes of each message (intents, answers) and the action it picks next."""
    seen: list[Any] = []
    for text in MESSAGES:
        parsed = asyncio.run(agent.parse_message(text))
        seen.append((parsed["intent"], parsed["intent_ranking"], parsed.get("response_selector")))
        tracker = DialogueStateTracker.from_events(
            "speedups",
            [ActionExecuted("action_listen"), UserUttered(text, parse_data=parsed)],
            slots=agent.domain.slots,
        )
        prediction = agent.processor._predict_next_with_tracker(tracker)
        seen.append((prediction.policy_name, prediction.probabilities))
    return seen


def test_a_model_loaded_without_a_training_step_answers_exactly_as_rasas_loading(
    trained_agent: Any, installed: None
) -> None:
    from rasa.core.agent import Agent

    root = Path(__file__).resolve().parents[2]
    fast = Agent.load(str(root / "models" / "tenant-assistant.tar.gz"))
    assert understanding_and_decisions(fast) == understanding_and_decisions(trained_agent)


class ActionServerDouble:
    """An HTTP server that records, for each request, the client's port and its headers."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, str]] = []
        self.runner: Any = None
        self.port = 0

    async def start(self, port: int = 0) -> None:
        from aiohttp import web

        async def webhook(request: web.Request) -> web.Response:
            peer = request.transport.get_extra_info("peername") if request.transport else None
            self.seen.append((peer[1] if peer else -1, request.headers.get("Authorization", "")))
            return web.json_response({"events": [], "responses": []})

        app = web.Application()
        app.router.add_post("/webhook", webhook)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        await self.runner.cleanup()


async def test_calls_to_the_action_server_share_a_kept_alive_connection(installed: None) -> None:
    server = ActionServerDouble()
    await server.start()
    try:
        endpoint = EndpointConfig(
            f"http://127.0.0.1:{server.port}/webhook", headers={"Authorization": "Bearer s3cret"}
        )
        for _ in range(3):
            assert await endpoint.request("post", json={"next_action": "x"}) == {
                "events": [],
                "responses": [],
            }
    finally:
        await rasa_speedups.close_connection_pool()
        await server.stop()
    ports = {port for port, _ in server.seen}
    assert len(server.seen) == 3 and len(ports) == 1
    assert {authorization for _, authorization in server.seen} == {"Bearer s3cret"}


async def test_a_restarted_action_server_is_reached_again_at_once(installed: None) -> None:
    server = ActionServerDouble()
    await server.start()
    endpoint = EndpointConfig(f"http://127.0.0.1:{server.port}/webhook")
    assert await endpoint.request("post", json={}) is not None
    await server.stop()
    restarted = ActionServerDouble()
    await restarted.start(server.port)
    try:
        await asyncio.sleep(0.1)
        assert await endpoint.request("post", json={}) == {"events": [], "responses": []}
    finally:
        await rasa_speedups.close_connection_pool()
        await restarted.stop()
