"""A message made of values and lead-ins only ("87654321", "non pardon c'est 87654321",
"marie@example.org") is an answer, ``inform``, whatever DIET guessed: a bare e-mail address
typed after leaving a form was read as a request to change the identifier, and a correction
as "no". The form that asks, or the rule for values with no request, then handles it."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.fallback import put_first
from bot.nlu.filler import FILLER_WORDS, words_of

INFORM = "inform"
#: Entities that are values a form asks for (not ``language`` or ``howto``).
VALUE_ENTITIES = frozenset({"client_number", "email", "amount", "debit_day", "iban"})


def values_only(text: str, entities: list[dict[str, Any]]) -> bool:
    """Does ``text`` hold values and nothing but lead-ins around them?"""
    values = [e for e in entities if e.get(ENTITY_ATTRIBUTE_TYPE) in VALUE_ENTITIES]
    if not values:
        return False
    kept = list(text)
    for entity in values:
        start, end = entity.get(ENTITY_ATTRIBUTE_START), entity.get(ENTITY_ATTRIBUTE_END)
        if isinstance(start, int) and isinstance(end, int):
            kept[start:end] = " " * (end - start)
    return all(word in FILLER_WORDS for word in words_of("".join(kept)))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ValuesOnlyClassifier(GraphComponent, IntentClassifier):
    """Sets ``inform`` on messages holding values and lead-ins only."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [IntentClassifier]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ValuesOnlyClassifier:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            if values_only(message.get(TEXT) or "", message.get(ENTITIES) or []):
                put_first(message, INFORM)
        return messages
