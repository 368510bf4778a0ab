"""A very long message is not guessed at: it goes to the fallback, which offers the likely
topics and a person, instead of being squeezed into one intent (a long story classified as
"goodbye" used to end the conversation)."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.fallback import mark_as_fallback

MAX_WORDS_KEY = "max_words"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class LongMessageFallback(GraphComponent, IntentClassifier):
    """Sets the fallback intent on messages of more than ``max_words`` words; entities and the
    intent ranking stay, so slots still fill and the fallback can offer the likely topics."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [IntentClassifier]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {MAX_WORDS_KEY: 40}

    def __init__(self, config: dict[str, Any]) -> None:
        self.max_words = int(config[MAX_WORDS_KEY])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LongMessageFallback:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            if len((message.get(TEXT) or "").split()) <= self.max_words:
                continue
            mark_as_fallback(message)
        return messages
