"""Corrections that carry no entity, and values of the opening message kept across the
verification, with Rasa's own FormAction driving our validators (tests/actions/rasa_loop.py)."""

from __future__ import annotations

import httpx
from rasa.shared.core.events import ActionExecuted, SlotSet

from actions.account_forms import ValidateForgotIdentifierForm, ValidateRegisterForm
from actions.insurance import (
    ActionAskInsurer,
    ActionAskPolicyNumber,
    ActionPrepareInsurance,
    ValidateInsuranceForm,
)
from actions.slot_rules import named_surname
from tests.actions.rasa_loop import Conversation, entity
from tests.actions.test_form_answers import actions_for, portal_for, verified_by_code
from tests.actions.test_insurance import ON_FILE
from tests.actions.test_verification import DUPONT, FakePortal


def register_chat() -> Conversation:
    return Conversation([ValidateRegisterForm(), ValidateForgotIdentifierForm()])


async def at_the_email_question(surname: str = "Durand") -> Conversation:
    chat = register_chat()
    await chat.user("je veux m'inscrire", intent="register")
    await chat.run("register_form")
    await chat.user("12345678", entities=[entity("client_number", "12345678", "12345678")])
    await chat.run("register_form")
    await chat.user(surname)
    assert await chat.run("register_form") == ["utter_ask_email"]
    return chat


async def test_a_surname_named_at_the_email_question_replaces_the_surname():
    chat = await at_the_email_question()
    await chat.user("non pardon, le nom c'est Lefebvre", intent="deny")
    said = await chat.run("register_form")
    assert chat.slot("surname") == "Lefebvre"
    assert chat.slot("email") is None
    assert said == ["utter_value_corrected", "utter_ask_email"]


async def test_a_bare_correction_at_the_email_question_corrects_the_surname():
    chat = await at_the_email_question()
    await chat.user("non pardon, Lefebvre", intent="deny")
    said = await chat.run("register_form")
    assert chat.slot("surname") == "Lefebvre"
    assert said == ["utter_value_corrected", "utter_ask_email"]


async def test_a_wrong_email_is_still_a_wrong_email():
    """No correction word: the question's own refusal stands, the surname is kept."""
    chat = await at_the_email_question()
    await chat.user("lefebvre arobase exemple")
    said = await chat.run("register_form")
    assert chat.slot("surname") == "Durand"
    assert said[0] == "utter_invalid_email"


async def test_a_sentence_after_no_corrects_nothing():
    chat = await at_the_email_question()
    await chat.user("non je sais pas", intent="deny")
    said = await chat.run("register_form")
    assert chat.slot("surname") == "Durand"
    assert "utter_value_corrected" not in said


async def test_an_opening_message_naming_the_surname_and_the_number():
    chat = register_chat()
    text = "identifiant oublié, je suis Lefebvre numéro client 87654321"
    await chat.user(
        text, intent="forgot_identifier", entities=[entity("client_number", text, "87654321")]
    )
    said = await chat.run("forgot_identifier_form")
    assert (chat.slot("surname"), chat.slot("client_number")) == ("Lefebvre", "87654321")
    assert chat.active_form is None
    assert said == []


def test_named_surnames():
    assert named_surname("je m'appelle Marie Le Goff") == "Marie Le Goff"
    assert named_surname("my name is De La Tour, number 12345678") == "De La Tour"
    assert named_surname("je suis bien Martin") == "Martin"
    for sentence in (
        "je suis locataire",
        "je suis perdu",
        "je suis pas sûr",
        "je suis le locataire",
    ):
        assert named_surname(sentence) is None, sentence


class InsurancePortal(FakePortal):
    """Takes any insurer and policy number as typed; refuses every date."""

    def handler(self, request: httpx.Request) -> httpx.Response:
        response = super().handler(request)
        if request.url.path.endswith("/policy-number"):
            return httpx.Response(200, json={"value": self.sent[-1]["text"].upper()})
        return response


def insurance_portal() -> FakePortal:
    return InsurancePortal(
        {
            ("GET", "/insurance"): (200, ON_FILE),
            ("POST", "/insurance-checks/insurer"): (200, {"value": "MAIF"}),
            ("POST", "/insurance-checks/date"): (400, {"error": "invalid_insurance_date"}),
        }
    )


async def test_a_correction_at_the_date_question_corrects_the_policy_number():
    portal = insurance_portal()
    client = portal.client()
    chat = Conversation(
        [
            ActionPrepareInsurance(client),
            ActionAskInsurer(client),
            ActionAskPolicyNumber(client),
            ValidateInsuranceForm(client),
        ]
    )
    chat.tracker.update(SlotSet("verified", True))
    await chat.user("mettre à jour mon assurance", intent="update_insurance")
    await chat.run("action_prepare_insurance", "insurance_form")
    await chat.user("MAIF")
    await chat.run("insurance_form")
    await chat.user("P-1111")
    assert (await chat.run("insurance_form"))[-1] == "utter_ask_insurance_valid_until"
    text = "non pardon c'est P-7777"
    await chat.user(text, intent="deny")
    said = await chat.run("insurance_form")
    assert chat.slot("policy_number") == "P-7777"
    assert "utter_invalid_insurance_date" not in said
    assert said == ["utter_value_corrected", "utter_ask_insurance_valid_until"]
    assert portal.sent[-1] == {"text": "P-7777"}


async def test_the_amount_of_the_opening_message_survives_the_verification():
    chat = Conversation(actions_for(portal_for(DUPONT)))
    text = "je veux payer 120 euros sur mon loyer"
    await chat.user(text, intent="pay_rent", entities=[entity("amount", text, "120 euros")])
    chat.tracker.update(ActionExecuted("action_check_verification"))
    said = await verified_by_code(chat, "pay_rent")
    said += await chat.run("action_prepare_payment", "payment_form")
    assert chat.slot("payment_amount") == "120.00"
    assert said[-1] == "utter_ask_payment_confirmed"
    assert "utter_invalid_amount" not in said


async def test_without_a_value_in_the_opening_message_the_amount_is_asked():
    chat = Conversation(actions_for(portal_for(DUPONT)))
    await chat.user("je veux payer mon loyer", intent="pay_rent")
    chat.tracker.update(ActionExecuted("action_check_verification"))
    said = await verified_by_code(chat, "pay_rent")
    said += await chat.run("action_prepare_payment", "payment_form")
    assert chat.slot("payment_amount") is None
    assert said[-1] == "utter_ask_payment_amount_due"
