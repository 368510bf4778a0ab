"""Setting a message's intent (the fallback, ``inform``), keeping what the NLU found in it."""

from __future__ import annotations

from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
)
from rasa.shared.nlu.training_data.message import Message


def put_first(message: Message, intent: str) -> None:
    """Make ``intent`` the message's intent, first in the ranking with confidence 1; the other
    intents stay ranked (the fallback offers the likely topics from them) and the entities
    stay (slots still fill)."""
    chosen = {INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: 1.0}
    ranking = [
        item
        for item in message.data.get(INTENT_RANKING_KEY, [])
        if item.get(INTENT_NAME_KEY) != intent
    ]
    message.data[INTENT] = dict(chosen)
    message.data[INTENT_RANKING_KEY] = [chosen, *ranking]


def mark_as_fallback(message: Message) -> None:
    """Intent ``nlu_fallback`` (see ``put_first``)."""
    put_first(message, DEFAULT_NLU_FALLBACK_INTENT_NAME)
