"""A message made only of words the assistant was never trained on ("qsdkjfh azpoeiru",
"9999999999"), or holding markup ("<script>alert(1)</script>", whose "alert" and "script" DIET
read as close to "inscrire"), goes to the fallback, which offers the likely topics and a
person: DIET, which must always pick some intent, would otherwise answer something unrelated
with confidence."""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_TYPE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.fallback import mark_as_fallback

VOCABULARY_FILE = "vocabulary.json"
#: Entities that say nothing of what the message is about.
NEUTRAL_ENTITIES = {"language", "howto"}
#: Hesitations and discourse particles ("euh alors bon voilà quoi"): they say nothing of what the
#: message is about, so a message of these alone is unclear, whatever DIET makes of it.
HESITATIONS = frozenset(
    {"euh", "euhh", "heu", "heuu", "hum", "hmm", "hmmm", "bah", "ben", "bref", "quoi", "voila"}
    | {"alors", "bon", "donc", "enfin", "hein", "genre", "bof", "pff", "pfff", "tiens"}
)
_WORD = re.compile(r"[^\W\d_]{2,}")
# An HTML or XML tag: "<script>", "</b>", "<img src=x onerror=...>" (not "<marie@example.org>").
_MARKUP = re.compile(r"</?[a-zA-Z][\w-]*(?:\s[^<>@]*)?/?>")


def words(text: str) -> set[str]:
    """Lower-case words of two letters or more, accents removed ("Prélèvement" -> "prelevement")."""
    plain = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return set(_WORD.findall(plain))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class UnknownWordsFallback(GraphComponent, IntentClassifier):
    """Sets the fallback intent when the message holds markup, or when no word of it but
    hesitations is in the training vocabulary and no value (client number, e-mail, amount...)
    was found in it; the ranking is kept."""

    @classmethod
    def required_components(cls) -> list[type]:
        # Its training node reads only the training data; config.yml puts it after DIET.
        return []

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    def __init__(
        self,
        model_storage: ModelStorage,
        resource: Resource,
        vocabulary: frozenset[str] = frozenset(),
    ) -> None:
        self._model_storage = model_storage
        self._resource = resource
        self.vocabulary = vocabulary

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> UnknownWordsFallback:
        return cls(model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        known: set[str] = set()
        for example in training_data.training_examples:
            known |= words(example.get(TEXT) or "")
        self.vocabulary = frozenset(known)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(json.dumps(sorted(known)), encoding="utf-8")
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> UnknownWordsFallback:
        with model_storage.read_from(resource) as directory:
            known = json.loads((directory / VOCABULARY_FILE).read_text(encoding="utf-8"))
        return cls(model_storage, resource, frozenset(known))

    def is_unknown(self, message: Message) -> bool:
        values = [
            entity
            for entity in message.get(ENTITIES) or []
            if entity.get(ENTITY_ATTRIBUTE_TYPE) not in NEUTRAL_ENTITIES
        ]
        text = message.get(TEXT) or ""
        if _MARKUP.search(text):
            return True
        return not values and not ((words(text) - HESITATIONS) & self.vocabulary)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            if not message.get(TEXT) or not self.is_unknown(message):
                continue
            mark_as_fallback(message)
        return messages
