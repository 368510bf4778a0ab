"""Form validation as the tenant answers: explanations, normalisation, the handoff offer."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.account_forms import ValidateRegisterForm
from actions.slot_rules import client_number_from, email_from, surname_from
from tests.actions.helpers import domain, tracker


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("12345678", "12345678"),
        ("mon numéro client est 87654321", "87654321"),
        ("1234 5678", "12345678"),
        ("12.34.56.78", "12345678"),
        ("1234567", None),
        ("123456789", None),
        ("abcdefgh", None),
        ("je ne sais pas", None),
        ("", None),
        # The digits of an e-mail address are not a client number.
        ("prenom.19850312@example.org", None),
        ("19850312@example.org, 12345678", "12345678"),
    ],
)
def test_client_number_from_what_was_typed(typed, expected):
    assert client_number_from(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Martin", "Martin"),
        ("c'est Dupont", "Dupont"),
        ("mon nom est Nguyen", "Nguyen"),
        ("Madame Le Goff", "Le Goff"),
        ("nom du signataire : Schmitt", "Schmitt"),
        ("12345678", None),
        ("a@example.org", None),
        ("", None),
        ("je ne sais vraiment pas quoi vous dire", None),
        # What is left of a message giving other values too.
        ("Dupont, client", "Dupont"),
        ("Le Goff, numéro", "Le Goff"),
        ("le nom c'est Durand et le numéro", "Durand"),
        ("je veux m'inscrire : , Martin,", "Martin"),
        ("je veux m'inscrire, mon numéro c'est", None),
        ("Martin, Dupont", None),
        (", bonne journée", None),
    ],
)
def test_surname_from_what_was_typed(typed, expected):
    assert surname_from(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("claire.dupont@example.org", "claire.dupont@example.org"),
        ("mon mail c'est Claire.Dupont@Example.org.", "claire.dupont@example.org"),
        ("claire.dupont@example", None),
        ("claire dupont", None),
        ("", None),
    ],
)
def test_email_from_what_was_typed(typed, expected):
    assert email_from(typed) == expected


async def validate(slot: str, value: str, failures: int = 0):
    dispatcher = CollectingDispatcher()
    method = getattr(ValidateRegisterForm(), f"validate_{slot}")
    result = await method(value, dispatcher, tracker(slots={"input_failures": failures}), domain())
    return result, [m["response"] for m in dispatcher.messages]


async def test_a_seven_digit_number_is_explained_and_not_kept():
    result, said = await validate("client_number", "1234567")
    assert result == {"client_number": None, "input_failures": 1}
    assert said == ["utter_invalid_client_number"]


async def test_third_failure_offers_a_person():
    result, said = await validate("client_number", "abc", failures=2)
    assert result["input_failures"] == 3
    assert said == ["utter_invalid_client_number", "utter_offer_handoff"]


async def test_a_valid_answer_resets_the_failure_count():
    result, said = await validate("client_number", "1234 5678", failures=2)
    assert result == {"client_number": "12345678", "input_failures": 0}
    assert said == []


async def test_invalid_email_is_explained():
    result, said = await validate("email", "claire@")
    assert result["email"] is None
    assert said == ["utter_invalid_email"]
