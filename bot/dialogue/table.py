"""The dialogue table (flows.yml): which forms exist, how each flow starts, what ends a form."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

TABLE = Path(__file__).with_name("flows.yml")


@dataclass(frozen=True)
class Form:
    name: str
    topic: str | None
    submit: tuple[str, ...]
    cancel: tuple[str, ...]
    offer_help: bool


@dataclass(frozen=True)
class DialogueTable:
    forms: dict[str, Form]
    #: Flows that need no account: intent -> steps (a form last).
    flows: dict[str, tuple[str, ...]]
    #: Flows on the tenant's account: intent -> steps once the conversation is verified.
    verified_flows: dict[str, tuple[str, ...]]
    #: Intents that end any form -> steps after the form's own cancel steps.
    exits: dict[str, tuple[str, ...]]
    closing_questions: frozenset[str]

    @property
    def request_intents(self) -> list[str]:
        """Every intent that starts a flow."""
        return [*self.flows, *self.verified_flows]

    @property
    def interruption_intents(self) -> list[str]:
        """Intents that never answer a form's question: requests and exits."""
        return [*self.request_intents, *self.exits]


def parse(raw: dict) -> DialogueTable:
    forms = {
        name: Form(
            name=name,
            topic=spec.get("topic"),
            submit=tuple(spec["submit"]),
            cancel=tuple(spec["cancel"]),
            offer_help=bool(spec.get("offer_help", True)),
        )
        for name, spec in raw["forms"].items()
    }
    return DialogueTable(
        forms=forms,
        flows={intent: tuple(steps) for intent, steps in raw["flows"].items()},
        verified_flows={intent: tuple(steps) for intent, steps in raw["verified_flows"].items()},
        exits={intent: tuple(steps) for intent, steps in raw["exits"].items()},
        closing_questions=frozenset(raw["closing_questions"]),
    )


@lru_cache(maxsize=1)
def load() -> DialogueTable:
    return parse(yaml.safe_load(TABLE.read_text(encoding="utf-8")))
