"""The Rasa server's speed-ups keep Rasa's behaviour (issue 11): an action server's reply is
accepted or refused exactly as Rasa 3.6 does, without checking the schema at every reply; a
model loaded without Rasa's training step understands and decides exactly as Rasa's loading."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
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
def installed() -> Iterator[None]:
    rasa_ways = RemoteAction._validate_action_result, vars(RasaModel)["load"]
    rasa_speedups.install()
    yield
    RemoteAction._validate_action_result, RasaModel.load = rasa_ways  # type: ignore[method-assign]


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


def test_the_rasa_server_entry_point_installs_them(monkeypatch: pytest.MonkeyPatch) -> None:
    rasa_ways = RemoteAction._validate_action_result, vars(RasaModel)["load"]
    monkeypatch.setattr(sys, "argv", ["rasa_main.py", "--version"])
    try:
        with mock.patch("rasa.__main__.main") as rasa_cli:
            rasa_main.main()
        rasa_cli.assert_called_once()
        assert RemoteAction._validate_action_result is rasa_speedups.validate_action_result
        assert RasaModel.load.__func__ is rasa_speedups.load_model_for_prediction
    finally:
        RemoteAction._validate_action_result, RasaModel.load = rasa_ways  # type: ignore[method-assign]


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
