"""With the action server out of reach, a tenant is told the service is unavailable (in their
language), once, never left without an answer nor told "pas compris"; the turn ends
listening, and a help-page question is still answered (issue 12). Runs the trained model with
an action endpoint where nothing listens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa.core.agent import Agent
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import ActionExecuted, BotUttered
from rasa.utils.endpoints import EndpointConfig

from bot.runner import rasa_main
from bot.runner.training import has_model
from bot.settings import PROJECT_ROOT
from tests.runner.test_runner_supervisor import free_port

pytestmark = pytest.mark.e2e

MODEL = PROJECT_ROOT / "models" / "tenant-assistant.tar.gz"


def response_texts(name: str) -> set[str]:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    return {variation["text"] for variation in domain["responses"][name]}


UNAVAILABLE = response_texts("utter_service_unavailable")
NOT_UNDERSTOOD = response_texts("utter_default") | response_texts("utter_fallback_topics")


@pytest.fixture(scope="module")
def unreachable_agent() -> Iterator[Agent]:
    """The trained model, its action server at a port where nothing listens."""
    if not has_model(Path(PROJECT_ROOT)):
        pytest.fail("No trained model in models/: run the README's test command, which trains it")
    agent = Agent.load(
        str(MODEL), action_endpoint=EndpointConfig(f"http://127.0.0.1:{free_port()}/webhook")
    )
    yield agent


@pytest.fixture
def installed(rasas_own: None) -> None:
    from bot.runner import replacements

    replacements.install(rasa_main.all_replacements())


async def say(agent: Agent, sender: str, text: str) -> list[str]:
    channel = CollectingOutputChannel()
    await agent.handle_message(UserMessage(text, channel, sender, input_channel="rest"))
    return [message.get("text") or "" for message in channel.messages]


async def last_events(agent: Agent, sender: str, count: int) -> list[Any]:
    tracker = await agent.tracker_store.retrieve(sender)
    return list(tracker.events)[-count:]


@pytest.mark.parametrize(
    "opening",
    ["j'ai oublié mon mot de passe", "je veux m'inscrire", "je veux payer mon loyer"],
)
async def test_a_flow_needing_the_action_server_says_the_service_is_unavailable(
    unreachable_agent: Agent, installed: None, opening: str
) -> None:
    sender = f"unreachable-{abs(hash(opening))}"
    replies = await say(unreachable_agent, sender, opening)

    assert any(reply in UNAVAILABLE for reply in replies), replies
    assert not any(reply in NOT_UNDERSTOOD for reply in replies), replies
    assert sum(reply in UNAVAILABLE for reply in replies) == 1
    *_, utterance, listening = await last_events(unreachable_agent, sender, 2)
    assert isinstance(utterance, BotUttered) and utterance.text in UNAVAILABLE
    assert isinstance(listening, ActionExecuted) and listening.action_name == "action_listen"


async def test_english_gets_the_english_notice(unreachable_agent: Agent, installed: None) -> None:
    replies = await say(unreachable_agent, "unreachable-en", "I forgot my password, please help")

    assert "The service is temporarily unavailable" in " ".join(replies), replies


async def test_a_help_page_question_is_still_answered(
    unreachable_agent: Agent, installed: None
) -> None:
    replies = await say(
        unreachable_agent, "unreachable-faq", "combien de temps pour valider mon assurance ?"
    )

    assert replies and not any(reply in UNAVAILABLE | NOT_UNDERSTOOD for reply in replies)
    assert "48" in " ".join(replies)
