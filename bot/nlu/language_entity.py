"""A Rasa graph component that adds the entity ``language`` (``fr`` or ``en``) to a message
written clearly in one of them; the ``language`` slot keeps the last one found, and the
domain's conditional response variations answer in it."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_CONFIDENCE,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.language import ShortReplies, Thresholds, detect, french_english_detector

ENTITY = "language"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class LanguageEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Tags each message with the language it is clearly written in (lingua, offline)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        defaults = Thresholds()
        return {
            "two_words": defaults.two_words,
            "three_or_four_words": defaults.three_or_four_words,
            "five_words_or_more": defaults.five_words_or_more,
        }

    def __init__(self, config: dict[str, Any]) -> None:
        self._thresholds = Thresholds(
            two_words=config["two_words"],
            three_or_four_words=config["three_or_four_words"],
            five_words_or_more=config["five_words_or_more"],
        )
        self._short_replies = ShortReplies.load()
        self._detector = french_english_detector()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageEntityExtractor:
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # Training examples are not annotated with a language: nothing to add to them.
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            language = detect(
                message.get(TEXT) or "",
                detector=self._detector,
                short_replies=self._short_replies,
                thresholds=self._thresholds,
            )
            if language is not None:
                entities = [*message.get(ENTITIES, []), self._entity(message, language)]
                message.set(ENTITIES, entities, add_to_output=True)
        return messages

    def _entity(self, message: Message, language: str) -> dict[str, Any]:
        return {
            ENTITY_ATTRIBUTE_TYPE: ENTITY,
            ENTITY_ATTRIBUTE_VALUE: language,
            ENTITY_ATTRIBUTE_START: 0,
            ENTITY_ATTRIBUTE_END: len(message.get(TEXT) or ""),
            ENTITY_ATTRIBUTE_CONFIDENCE: 1.0,
            EXTRACTOR: self.__class__.__name__,
        }
