"""Turning a message into Rasa's fallback intent while keeping what the NLU found in it."""

from __future__ import annotations

from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
)
from rasa.shared.nlu.training_data.message import Message


def mark_as_fallback(message: Message) -> None:
    """Intent ``nlu_fallback``, first in the ranking; the other intents stay ranked (the fallback
    offers the likely topics from them) and the entities stay (slots still fill)."""
    fallback = {INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME, PREDICTED_CONFIDENCE_KEY: 1.0}
    ranking = [
        item
        for item in message.data.get(INTENT_RANKING_KEY, [])
        if item.get(INTENT_NAME_KEY) != DEFAULT_NLU_FALLBACK_INTENT_NAME
    ]
    message.data[INTENT] = dict(fallback)
    message.data[INTENT_RANKING_KEY] = [fallback, *ranking]
