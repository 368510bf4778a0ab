"""The conversation bench's matching: a reply back to its response name and language."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.conversations.checks import Expect, check
from bench.conversations.responses import (
    ResponseCatalog,
    canonical_name,
    project_responses,
    template_pattern,
)

EN = [{"type": "slot", "name": "language", "value": "en"}]
CATALOG = ResponseCatalog.from_responses(
    {
        "utter_ask_email": [
            {"text": "Quelle est votre adresse e-mail ?"},
            {"text": "What is your email address?", "condition": EN},
        ],
        "utter_balance_lease_due": [
            {"text": "{lease} : {amount} restent à payer (loyer mensuel {rent})."},
            {"text": "{lease}: {amount} left to pay (monthly rent {rent}).", "condition": EN},
        ],
        "utter_faq/direct_debit_days": [
            {"text": "Vous pouvez choisir d'être prélevé le 2, le 7 ou le 10 du mois."}
        ],
        "utter_goodbye": [{"text": "Au revoir et bonne journée !"}],
        "utter_greet": [{"text": "Bonjour !"}, {"text": "Salut !"}],
    }
)


def reply(text: str, *payloads: str) -> dict:
    return {"text": text, "buttons": [{"title": p, "payload": p} for p in payloads]}


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Quelle est votre adresse e-mail ?", {"utter_ask_email"}),
        ("What is your email address?", {"utter_ask_email"}),
        ("Salut !", {"utter_greet"}),
        # placeholders are wildcards; French amounts carry narrow non-breaking spaces
        (
            "Logement : 1\u202f412,50\u00a0€ restent à payer (loyer mensuel 540,00 €).",
            {"utter_balance_lease_due"},
        ),
        ("Parking: 10.00 € left to pay (monthly rent 45.00 €).", {"utter_balance_lease_due"}),
        # the whole text must match: a longer or shorter text is another response
        ("Quelle est votre adresse e-mail ? Merci.", set()),
        ("Au revoir", set()),
        ("Logement restent à payer", set()),
    ],
)
def test_a_reply_maps_back_to_its_response(text: str, names: set[str]):
    assert CATALOG.names_of(text) == names


def test_the_variation_tells_the_language():
    assert CATALOG.languages_of("What is your email address?") == {"en"}
    assert CATALOG.languages_of("Quelle est votre adresse e-mail ?") == {"fr"}
    assert CATALOG.languages_of("Parking: 1 € left to pay (monthly rent 2 €).") == {"en"}
    assert CATALOG.languages_of("something the project never says") == set()


def test_placeholders_match_any_text_but_literal_parts_stay_literal():
    pattern = template_pattern("Coût (en €) : {amount}.")
    assert pattern.fullmatch("Coût (en €) : 12,00 €.")
    assert pattern.fullmatch("Coût (en €) : .")
    assert not pattern.fullmatch("Coût en € : 12,00 €.")


def test_faq_short_names():
    assert canonical_name("faq/direct_debit_days") == "utter_faq/direct_debit_days"
    assert canonical_name("utter_greet") == "utter_greet"
    assert Expect.parse({"says": "faq/direct_debit_days"}).says == ["utter_faq/direct_debit_days"]


def test_expectations_on_names():
    replies = [reply("Bonjour !"), reply("Quelle est votre adresse e-mail ?")]
    assert check(Expect.parse({"says": ["utter_greet", "utter_ask_email"]}), replies, CATALOG) == []
    assert check(Expect.parse({"last_says": "utter_ask_email"}), replies, CATALOG) == []
    assert check(Expect.parse({"last_says": "utter_greet"}), replies, CATALOG) == [
        "expected the last reply to be utter_greet"
    ]
    assert check(Expect.parse({"says": "utter_goodbye"}), replies, CATALOG) == [
        "expected utter_goodbye"
    ]
    assert check(Expect.parse({"not_says": "utter_greet"}), replies, CATALOG) == [
        "did not expect utter_greet"
    ]
    assert (
        check(Expect.parse({"says_one_of": ["utter_goodbye", "utter_greet"]}), replies, CATALOG)
        == []
    )


def test_expectations_on_text_buttons_and_silence():
    replies = [
        reply(
            "Vous pouvez choisir d'être prélevé le 2, le 7 ou le 10 du mois.", "/setup_direct_debit"
        )
    ]
    assert (
        check(
            Expect.parse({"contains": "LE 2, le 7", "buttons": "/setup_direct_debit"}),
            replies,
            CATALOG,
        )
        == []
    )
    assert check(Expect.parse({"matches": r"le \d, le 7"}), replies, CATALOG) == []
    assert check(Expect.parse({"not_contains": "prélevé"}), replies, CATALOG) == [
        "did not expect the text 'prélevé'"
    ]
    assert check(Expect.parse({"buttons": "/pay_rent"}), replies, CATALOG) == [
        "expected a button /pay_rent"
    ]
    assert check(Expect.parse({}), [], CATALOG) == ["no reply at all"]
    assert check(Expect.parse({}, silent_ok=True), [], CATALOG) == []


def test_language_expectation_fails_on_french_and_on_unknown_text():
    english = [reply("What is your email address?")]
    french = [reply("Quelle est votre adresse e-mail ?")]
    assert check(Expect.parse({"language": "en"}), english, CATALOG) == []
    (failure,) = check(Expect.parse({"language": "en"}), french, CATALOG)
    assert failure.startswith("expected en, got fr")
    (failure,) = check(Expect.parse({"language": "en"}), [reply("Hello there")], CATALOG)
    assert "no known response" in failure


def test_unknown_expectation_keys_are_refused():
    with pytest.raises(ValueError, match="says_all"):
        Expect.parse({"says_all": ["utter_greet"]})


def test_project_responses_come_from_domain_data_and_channel_wording(tmp_path: Path):
    (tmp_path / "domain.yml").write_text(
        'responses:\n  utter_greet:\n    - text: "Bonjour"\n'
        '    - text: "Hello"\n      condition: [{type: slot, name: language, value: en}]\n'
    )
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "faq.yml").write_text(
        'responses:\n  utter_faq/days:\n    - text: "Le 2, le 7 ou le 10."\n'
    )
    (tmp_path / "bot" / "channels").mkdir(parents=True)
    (tmp_path / "bot" / "channels" / "messages_fr.yml").write_text(
        'sms:\n  opted_in: "SMS"\nany:\n  too_long: "Trop long ({max_chars})."\n'
    )
    catalog = ResponseCatalog.from_responses(project_responses(tmp_path))
    assert catalog.names_of("Hello") == {"utter_greet"}
    assert catalog.languages_of("Hello") == {"en"}
    assert catalog.names_of("Le 2, le 7 ou le 10.") == {"utter_faq/days"}
    assert catalog.names_of("Trop long (1 000).") == {"channel/too_long"}
    assert catalog.names_of("SMS") == set()
