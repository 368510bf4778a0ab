"""Rasa's own form machinery (``FormAction``, ``action_extract_slots``) driving our validators
in-process: the action-server endpoint is replaced by rasa-sdk's executor, so a test sees what a
tenant would see, turn by turn, without a trained model or a running server."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rasa.core.actions.action import ActionBotResponse, ActionExtractSlots, RemoteAction
from rasa.core.actions.forms import FormAction
from rasa.core.channels import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk import Action
from rasa_sdk.executor import ActionExecutor

from tests.actions.helpers import ROOT


@lru_cache(maxsize=1)
def rasa_domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


class InProcessActions(EndpointConfig):
    """The action server, as an ``EndpointConfig`` whose requests run the actions here."""

    def __init__(self, actions: list[Action]):
        super().__init__(url="http://actions.test/webhook")
        self.executor = ActionExecutor()
        for action in actions:
            self.executor.register_action(action)

    async def request(self, method: str = "post", subpath: str | None = None, **kwargs: Any):
        return await self.executor.run(kwargs["json"])


@dataclass
class Conversation:
    """One conversation: the tenant's messages, then the actions the policies would pick."""

    actions: list[Action]
    sender_id: str = "rest:conversation-1"
    said: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.domain = rasa_domain()
        self.endpoint = InProcessActions(self.actions)
        self.nlg = TemplatedNaturalLanguageGenerator(self.domain.responses)
        self.tracker = DialogueStateTracker.from_events(
            self.sender_id, [ActionExecuted("action_listen")], slots=self.domain.slots
        )

    async def user(
        self, text: str, intent: str = "inform", entities: list[dict[str, Any]] | None = None
    ) -> None:
        """The tenant writes; Rasa runs ``action_extract_slots`` at once, as its processor does."""
        if self.tracker.latest_action_name != "action_listen":
            self.tracker.update(ActionExecuted("action_listen"))
        self.tracker.update(
            UserUttered(
                text,
                intent={"name": intent, "confidence": 0.95},
                entities=entities or [],
                input_channel="rest",
            )
        )
        await self._apply(ActionExtractSlots(self.endpoint), log=False)

    async def run(self, *names: str) -> list[str]:
        """Run these actions in turn, as the policies would predict them; return what the bot
        said (response names) during them."""
        start = len(self.said)
        for name in names:
            if name in self.domain.form_names:
                action = FormAction(name, self.endpoint)
            elif name.startswith("utter_"):
                action = ActionBotResponse(name)
            else:
                action = RemoteAction(name, self.endpoint)
            await self._apply(action)
        return self.said[start:]

    async def _apply(self, action: Any, log: bool = True) -> None:
        output = CollectingOutputChannel()
        events: list[Event] = await action.run(output, self.nlg, self.tracker, self.domain)
        if log:
            self.tracker.update(ActionExecuted(action.name()))
        for event in events:
            self.tracker.update(event, self.domain)
            if event.type_name == "bot":
                self.said.append(event.metadata.get("utter_action") or event.text)
                self.texts.append(event.text or "")

    def slot(self, name: str) -> Any:
        return self.tracker.get_slot(name)

    @property
    def active_form(self) -> str | None:
        return self.tracker.active_loop_name


def entity(kind: str, text: str, value: str) -> dict[str, Any]:
    """The entity ``value`` of type ``kind`` at its place in ``text``, as the extractor gives it."""
    start = text.index(value)
    return {"entity": kind, "start": start, "end": start + len(value), "value": value}
