"""The entities of data/nlu/regex.yml, found as Rasa's RegexEntityExtractor finds them."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.nlu.extractors.regex_entity_extractor import RegexEntityExtractor
from rasa.nlu.utils.pattern_utils import extract_patterns
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from rasa.shared.nlu.training_data.message import Message

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def extractor() -> RegexEntityExtractor:
    data = RasaYAMLReader().read(ROOT / "data" / "nlu" / "regex.yml")
    config = {**RegexEntityExtractor.get_default_config(), "use_lookup_tables": False}
    return RegexEntityExtractor(config, None, None, extract_patterns(data, use_lookup_tables=False))


def found(extractor: RegexEntityExtractor, text: str) -> list[tuple[str, str]]:
    message = Message.build(text=text)
    extractor.process([message])
    return sorted((e["entity"], e["value"]) for e in message.get("entities", []))


@pytest.mark.parametrize(
    ("text", "entities"),
    [
        ("87654321", [("client_number", "87654321")]),
        ("comment je me désinscris ?", [("howto", "comment je")]),
        ("how do I pay my rent", [("howto", "how do")]),
        ("non pardon c'est 87654321", [("client_number", "87654321")]),
        ("Dupont, client 87654321", [("client_number", "87654321")]),
        (
            "je veux m'inscrire : 12345678, Martin, martin@example.org",
            [("client_number", "12345678"), ("email", "martin@example.org")],
        ),
        # The digits of an e-mail address are not a client number.
        ("prenom.19850312@example.org", [("email", "prenom.19850312@example.org")]),
        ("19850312@example.org", [("email", "19850312@example.org")]),
        ("123456789", []),
        ("50", [("amount", "50")]),
        ("50 €", [("amount", "50 €")]),
        ("412,50", [("amount", "412,50")]),
        ("non, 412.50 euros", [("amount", "412.50 euros")]),
        # A verification code, a date: never an amount.
        ("123456", []),
        ("31/12/2026", []),
        ("plutôt le 10", [("amount", "10"), ("debit_day", "le 10")]),
        ("le sept", [("debit_day", "le sept")]),
        (
            "prélevé le 2 du mois",
            [("amount", "2"), ("debit_day", "le 2 du mois")],
        ),
        ("le 15", [("amount", "15")]),
        (
            "mon IBAN FR7630006000011234567890189 merci",
            [("iban", "FR7630006000011234567890189")],
        ),
    ],
)
def test_values_found_in_what_tenants_type(extractor, text, entities):
    assert found(extractor, text) == entities


def test_an_iban_with_spaces_is_one_value(extractor):
    ibans = [v for e, v in found(extractor, "FR76 3000 6000 0112 3456 7890 189") if e == "iban"]
    assert ibans == ["FR76 3000 6000 0112 3456 7890 189"]


def test_every_pattern_is_used_by_the_trained_extractor():
    """Rasa's RegexEntityExtractor keeps only the patterns of entities annotated in some training
    example: a pattern without one is silently never used (so it was for ``howto``)."""
    from rasa.shared.nlu.training_data.training_data import TrainingData

    files = sorted((ROOT / "data" / "nlu").glob("*.yml"))
    data = TrainingData().merge(*(RasaYAMLReader().read(path) for path in files))
    used = extract_patterns(data, use_lookup_tables=False, use_only_entities=True)
    declared = RasaYAMLReader().read(ROOT / "data" / "nlu" / "regex.yml").regex_features
    assert {p["name"] for p in used} == {r["name"] for r in declared}
