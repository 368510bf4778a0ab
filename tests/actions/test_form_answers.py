"""What the tenant sees in a form, turn by turn, with Rasa's own FormAction and slot extraction
driving our validators (tests/actions/rasa_loop.py): no false error after the verification
code, several values in one message, the opening message used, corrections replacing values
before anything is sent."""

from __future__ import annotations

import pytest
from rasa.shared.core.events import SlotSet

from actions.account_changes import ActionPrepareIdentifierChange, ValidateChangeIdentifierForm
from actions.account_forms import ValidateForgotIdentifierForm, ValidateRegisterForm
from actions.insurance import (
    ActionAskInsurer,
    ActionPrepareInsurance,
    ValidateInsuranceForm,
)
from actions.payments import (
    ActionAskPaymentAmount,
    ActionAskPaymentConfirmed,
    ActionAskPaymentLease,
    ActionCreatePayment,
    ActionPreparePayment,
    ValidatePaymentForm,
)
from actions.verification import ActionResumeTopic, ValidateVerifyForm
from tests.actions.rasa_loop import Conversation, entity
from tests.actions.test_insurance import ON_FILE
from tests.actions.test_verification import DUPONT, NGUYEN, FakePortal

#: Every response that tells the tenant something they typed was wrong.
ERRORS = {
    "utter_request_failed",
    "utter_invalid_payment_lease",
    "utter_invalid_amount",
    "utter_invalid_email",
    "utter_invalid_surname",
    "utter_invalid_client_number",
    "utter_invalid_insurer",
    "utter_invalid_policy_number",
    "utter_invalid_insurance_date",
}


def portal_for(profile: dict) -> FakePortal:
    return FakePortal(
        {
            ("POST", "/verifications"): (202, {"status": "sent"}),
            ("POST", "/verifications/code"): (200, {"status": "verified"}),
            ("GET", "/me"): (200, profile),
            ("GET", "/insurance"): (200, ON_FILE),
            # Anything typed is refused: the form must not send what the tenant did not type.
            ("POST", "/insurance-checks/insurer"): (400, {"error": "invalid_insurer"}),
            ("POST", "/payments"): (
                201,
                {"payment_url": "http://portal.test/p/x", "amount": "60.00", "lease_label": "L"},
            ),
        }
    )


def actions_for(portal: FakePortal) -> list:
    client = portal.client()
    return [
        ValidateVerifyForm(client),
        ActionResumeTopic(client),
        ActionPreparePayment(client),
        ActionAskPaymentLease(client),
        ActionAskPaymentAmount(client),
        ActionAskPaymentConfirmed(),
        ValidatePaymentForm(client),
        ActionCreatePayment(client),
        ActionPrepareInsurance(client),
        ActionAskInsurer(client),
        ValidateInsuranceForm(client),
        ActionPrepareIdentifierChange(client),
        ValidateChangeIdentifierForm(client),
    ]


async def verified_by_code(chat: Conversation, topic: str, code: str = "123456") -> list[str]:
    """The tenant asked for ``topic``, gives the account email, then the code; returns what
    the bot says after the code (verification form, resumed topic, the waiting flow's form)."""
    chat.tracker.update(SlotSet("verified", False))
    chat.tracker.update(SlotSet("pending_topic", topic))
    await chat.run("verify_form")
    email = "minh.nguyen@example.org"
    await chat.user(email, entities=[entity("email", email, email)])
    await chat.run("verify_form")
    await chat.user(code, entities=[entity("amount", code, v) for v in code.split()][1:])
    return await chat.run("verify_form", "action_resume_topic")


@pytest.mark.parametrize(
    ("topic", "profile", "prepare", "form", "asked"),
    [
        ("pay_rent", NGUYEN, "action_prepare_payment", "payment_form", "utter_ask_payment_lease"),
        (
            "pay_rent",
            DUPONT,
            "action_prepare_payment",
            "payment_form",
            "utter_ask_payment_amount_due",
        ),
        (
            "update_insurance",
            DUPONT,
            "action_prepare_insurance",
            "insurance_form",
            "utter_ask_insurer",
        ),
        (
            "change_identifier",
            DUPONT,
            "action_prepare_identifier_change",
            "change_identifier_form",
            "utter_ask_new_email",
        ),
    ],
)
async def test_no_false_error_right_after_the_code(topic, profile, prepare, form, asked):
    portal = portal_for(profile)
    chat = Conversation(actions_for(portal))
    said = await verified_by_code(chat, topic)
    said += await chat.run(prepare, form)
    assert not ERRORS & set(said), said
    assert said[-1] == asked
    assert chat.active_form == form
    # Nothing the tenant did not type was checked by the portal.
    assert ("POST", "/insurance-checks/insurer") not in portal.calls


async def test_a_code_typed_in_two_groups_is_not_an_amount():
    chat = Conversation(actions_for(portal_for(DUPONT)))
    await verified_by_code(chat, "pay_rent", code="123 456")
    said = await chat.run("action_prepare_payment", "payment_form")
    assert chat.slot("payment_amount") is None
    assert said[-1] == "utter_ask_payment_amount_due"


def register_chat() -> Conversation:
    return Conversation([ValidateRegisterForm(), ValidateForgotIdentifierForm()])


async def test_an_opening_message_with_everything_fills_the_whole_form():
    chat = register_chat()
    text = "je veux m'inscrire : 12345678, Martin, martin@example.org"
    await chat.user(
        text,
        intent="register",
        entities=[
            entity("client_number", text, "12345678"),
            entity("email", text, "martin@example.org"),
        ],
    )
    said = await chat.run("register_form")
    assert (chat.slot("client_number"), chat.slot("surname"), chat.slot("email")) == (
        "12345678",
        "Martin",
        "martin@example.org",
    )
    assert chat.active_form is None
    assert said == []


async def test_an_opening_message_with_a_part_asks_only_the_rest():
    chat = register_chat()
    text = "je voudrais créer mon compte, numéro client 87654321"
    await chat.user(text, intent="register", entities=[entity("client_number", text, "87654321")])
    said = await chat.run("register_form")
    assert chat.slot("client_number") == "87654321"
    assert chat.slot("surname") is None
    assert said == ["utter_ask_surname"]


async def test_a_value_left_from_an_earlier_flow_is_replaced_without_a_word():
    chat = register_chat()
    chat.tracker.update(SlotSet("client_number", "12345678"))
    text = "je voudrais créer mon compte, numéro client 87654321"
    await chat.user(text, intent="register", entities=[entity("client_number", text, "87654321")])
    assert await chat.run("register_form") == ["utter_ask_surname"]
    assert chat.slot("client_number") == "87654321"


async def test_surname_and_client_number_in_one_answer():
    chat = register_chat()
    await chat.user("j'ai oublié mon identifiant", intent="forgot_identifier")
    assert await chat.run("forgot_identifier_form") == ["utter_ask_surname"]
    text = "Dupont, client 87654321"
    await chat.user(text, entities=[entity("client_number", text, "87654321")])
    said = await chat.run("forgot_identifier_form")
    assert (chat.slot("surname"), chat.slot("client_number")) == ("Dupont", "87654321")
    assert chat.active_form is None
    assert said == []


async def test_a_hedge_around_the_number_is_no_surname():
    """ "mon numero c'est le 81745174 je crois" gave the surname "Je Crois"."""
    chat = register_chat()
    await chat.user("je veux m'inscrire", intent="register")
    await chat.run("register_form")
    text = "mon numero c'est le 81745174 je crois"
    await chat.user(text, entities=[entity("client_number", text, "81745174")])
    assert await chat.run("register_form") == ["utter_ask_surname"]
    assert (chat.slot("client_number"), chat.slot("surname")) == ("81745174", None)


@pytest.mark.parametrize(
    "text",
    [
        "hi, I want to register, my client number is 12345678",
        "bjr, je veux m'inscrire, mon numéro client est le 12345678",
        "coucou ! inscription stp : 12345678",
    ],
)
async def test_a_greeting_in_the_opening_message_is_no_surname(text: str):
    """ "hi, I want to register, my client number is 12345678" gave the surname "Hi"."""
    chat = register_chat()
    await chat.user(text, intent="register", entities=[entity("client_number", text, "12345678")])
    assert await chat.run("register_form") == ["utter_ask_surname"]
    assert (chat.slot("client_number"), chat.slot("surname")) == ("12345678", None)


async def test_a_correction_replaces_the_client_number_and_asks_the_question_again():
    chat = register_chat()
    await chat.user("je veux m'inscrire", intent="register")
    await chat.run("register_form")
    await chat.user("12345678", entities=[entity("client_number", "12345678", "12345678")])
    assert await chat.run("register_form") == ["utter_ask_surname"]
    text = "non pardon c'est 87654321"
    await chat.user(text, intent="deny", entities=[entity("client_number", text, "87654321")])
    said = await chat.run("register_form")
    assert chat.slot("client_number") == "87654321"
    assert chat.slot("surname") is None
    assert said == ["utter_value_corrected", "utter_ask_surname"]


async def test_an_email_holding_eight_digits_does_not_replace_the_client_number():
    chat = register_chat()
    await chat.user("je veux m'inscrire", intent="register")
    await chat.run("register_form")
    await chat.user("12345678", entities=[entity("client_number", "12345678", "12345678")])
    await chat.run("register_form")
    await chat.user("Martin")
    assert await chat.run("register_form") == ["utter_ask_email"]
    email = "prenom.19850312@example.org"
    # What the RegexEntityExtractor finds in it (tests/test_regex_entities.py): the email only.
    await chat.user(email, entities=[entity("email", email, email)])
    said = await chat.run("register_form")
    assert chat.slot("client_number") == "12345678"
    assert chat.slot("email") == email
    assert said == []


async def payment_at_confirmation() -> tuple[Conversation, FakePortal]:
    portal = portal_for(DUPONT)
    chat = Conversation(actions_for(portal))
    chat.tracker.update(SlotSet("verified", True))
    await chat.user("je veux payer mon loyer", intent="pay_rent")
    await chat.run("action_prepare_payment", "payment_form")
    await chat.user("412.50", entities=[entity("amount", "412.50", "412.50")])
    assert await chat.run("payment_form") == ["utter_ask_payment_confirmed"]
    return chat, portal


async def test_a_corrected_amount_shows_the_summary_again_and_sends_nothing():
    chat, portal = await payment_at_confirmation()
    text = "non, 60 euros"
    await chat.user(text, intent="deny", entities=[entity("amount", text, "60 euros")])
    said = await chat.run("payment_form")
    assert said == ["utter_value_corrected", "utter_ask_payment_confirmed"]
    assert "60,00" in chat.texts[-1]
    assert chat.slot("payment_amount") == "60.00"
    assert chat.slot("payment_confirmed") is None
    assert chat.active_form == "payment_form"
    assert ("POST", "/payments") not in portal.calls
    # Then "oui": the new amount is the one sent.
    await chat.user("oui", intent="affirm")
    await chat.run("payment_form", "action_create_payment")
    assert portal.sent[portal.calls.index(("POST", "/payments"))]["amount"] == "60.00"


async def test_a_plain_no_to_the_summary_still_cancels():
    chat, portal = await payment_at_confirmation()
    await chat.user("non", intent="deny")
    said = await chat.run("payment_form", "action_create_payment")
    assert chat.slot("payment_confirmed") is None  # cleared by the cancellation
    assert said == ["utter_payment_cancelled"]
    assert ("POST", "/payments") not in portal.calls


async def test_the_amount_and_the_lease_in_one_answer():
    chat = Conversation(actions_for(portal_for(NGUYEN)))
    chat.tracker.update(SlotSet("verified", True))
    await chat.user("je veux payer", intent="pay_rent")
    assert (await chat.run("action_prepare_payment", "payment_form"))[-1] == (
        "utter_ask_payment_lease"
    )
    # A button payload is the lease reference; the amount may come with it.
    text = "Parking, 45 €"
    await chat.user(text, entities=[entity("amount", text, "45 €")])
    said = await chat.run("payment_form")
    assert (chat.slot("payment_lease"), chat.slot("payment_amount")) == ("B3", "45.00")
    assert said == ["utter_ask_payment_confirmed"]


async def test_another_email_at_the_code_question_sends_a_new_code_there():
    portal = portal_for(DUPONT)
    chat = Conversation(actions_for(portal))
    chat.tracker.update(SlotSet("pending_topic", "check_balance"))
    await chat.run("verify_form")
    await chat.user(
        "claire@example.org", entities=[entity("email", "claire@example.org", "claire@example.org")]
    )
    assert await chat.run("verify_form") == ["utter_code_sent", "utter_ask_verification_code"]
    text = "pardon c'est claire.dupont@example.org"
    await chat.user(text, entities=[entity("email", text, "claire.dupont@example.org")])
    said = await chat.run("verify_form")
    assert said == ["utter_code_sent", "utter_ask_verification_code"]
    assert [
        s["email"]
        for c, s in zip(portal.calls, portal.sent, strict=True)
        if c == ("POST", "/verifications")
    ] == [
        "claire@example.org",
        "claire.dupont@example.org",
    ]
    # The sentence was not taken as a (wrong) code.
    assert ("POST", "/verifications/code") not in portal.calls
