"""A message of values and lead-ins only is an answer (``inform``), whatever DIET guessed."""

from __future__ import annotations

import re

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.values_only import ValuesOnlyClassifier

PATTERNS = {
    "client_number": r"\b\d{8}\b",
    "email": r"\S+@\S+\.\w+",
    "amount": r"\b\d{1,4} ?(?:€|euros)?(?=\s|$)",
}


def parsed(text: str, kind: str, guessed: str = "change_identifier") -> Message:
    """``text`` as the pipeline hands it over: DIET's guess and the value the regexes found."""
    match = re.search(PATTERNS[kind], text)
    assert match, (kind, text)
    return Message(
        data={
            "text": text,
            "intent": {"name": guessed, "confidence": 0.8},
            "intent_ranking": [
                {"name": guessed, "confidence": 0.8},
                {"name": "inform", "confidence": 0.1},
            ],
            "entities": [
                {"entity": kind, "start": match.start(), "end": match.end(), "value": match[0]},
                {"entity": "language", "start": 0, "end": len(text), "value": "fr"},
            ],
        }
    )


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("nouvelle.adresse@example.org", "email"),
        ("non pardon c'est 87654321", "client_number"),
        ("mon numéro client : 87654321 je crois", "client_number"),
        ("120 €", "amount"),
        ("ok c'est marie@example.org merci", "email"),
    ],
)
def test_values_and_lead_ins_are_an_answer(text, kind):
    (message,) = ValuesOnlyClassifier().process([parsed(text, kind)])
    assert message.get("intent") == {"name": "inform", "confidence": 1.0}
    assert [item["name"] for item in message.get("intent_ranking")] == [
        "inform",
        "change_identifier",
    ]


@pytest.mark.parametrize(
    ("text", "kind", "intent"),
    [
        ("je veux changer mon identifiant pour marie@example.org", "email", "change_identifier"),
        ("je veux payer 120 €", "amount", "pay_rent"),
        ("inscription 87654321", "client_number", "register"),
    ],
)
def test_a_request_with_a_value_keeps_its_intent(text, kind, intent):
    (message,) = ValuesOnlyClassifier().process([parsed(text, kind, guessed=intent)])
    assert message.get("intent")["name"] == intent


def test_no_value_no_change():
    message = Message(data={"text": "non merci", "intent": {"name": "deny", "confidence": 0.9}})
    ValuesOnlyClassifier().process([message])
    assert message.get("intent")["name"] == "deny"
