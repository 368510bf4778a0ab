"""What the trained model makes of the messages that fill forms (phrasings not in the training
data): each keeps an intent that free text may fill a slot from (not a question or a request,
tests/test_slot_mappings.py), with the values as entities; an opening request keeps its intent
and its values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import parse
from tests.test_slot_mappings import INTERRUPTIONS

ROOT = Path(__file__).resolve().parents[1]

#: Answers inside a form: (text, entities found).
ANSWERS = [
    ("Martin, numéro 12345678", [("client_number", "12345678")]),
    ("non désolé c'est 11223344", [("client_number", "11223344")]),
    (
        "Schmitt 55667788 j.schmitt@example.org",
        [("client_number", "55667788"), ("email", "j.schmitt@example.org")],
    ),
    ("prenom.19850312@example.org", [("email", "prenom.19850312@example.org")]),
    ("non, 75 euros", [("amount", "75 euros")]),
    ("finalement 412,50", [("amount", "412,50")]),
    ("plutôt le 2", [("debit_day", "le 2")]),
    ("FR76 3000 6000 0112 3456 7890 189", [("iban", "FR76 3000 6000 0112 3456 7890 189")]),
    ("je l'ai déposé", []),
    ("c'est envoyé !", []),
    ("874 512", []),
]
#: Opening requests carrying values: (text, intent, entities).
OPENINGS = [
    (
        "je souhaite m'inscrire : 55667788, Schmitt, j.schmitt@example.org",
        "register",
        [("client_number", "55667788"), ("email", "j.schmitt@example.org")],
    ),
    ("je voudrais payer 120 euros de loyer", "pay_rent", [("amount", "120 euros")]),
]


@pytest.fixture(scope="module")
def agent(trained_agent: Any) -> Any:
    return trained_agent


#: Entities compared exactly; amounts only where one is expected (the amount pattern also
#: matches the digits of a day, an IBAN or a code, and fills a slot in the payment form only).
EXACT = {"client_number", "email", "debit_day", "iban"}


def entities(parsed: dict[str, Any], expected: list[tuple[str, str]]) -> list[tuple[str, str]]:
    kinds = EXACT | {kind for kind, _ in expected}
    return sorted((e["entity"], e["value"]) for e in parsed["entities"] if e["entity"] in kinds)


def test_the_phrasings_are_not_training_examples():
    trained = {
        line.strip().removeprefix("- ").strip().lower()
        for path in (ROOT / "data" / "nlu").glob("*.yml")
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", [])
        for line in block.get("examples", "").splitlines()
    }
    phrasings = [text for text, _ in ANSWERS] + [text for text, _, _ in OPENINGS]
    assert [text for text in phrasings if text.lower() in trained] == []


@pytest.mark.parametrize(("text", "found"), ANSWERS)
def test_an_answer_fills_the_form(agent, text, found):
    parsed = parse(agent, text)
    assert parsed["intent"]["name"] not in INTERRUPTIONS, parsed["intent"]
    assert entities(parsed, found) == sorted(found)


@pytest.mark.parametrize(("text", "intent", "found"), OPENINGS)
def test_an_opening_request_keeps_its_values(agent, text, intent, found):
    parsed = parse(agent, text)
    assert parsed["intent"]["name"] == intent
    assert entities(parsed, found) == sorted(found)
