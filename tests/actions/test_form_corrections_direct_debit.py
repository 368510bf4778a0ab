"""Corrections in the direct-debit form, with Rasa's own FormAction (tests/actions/rasa_loop.py):
a day or an IBAN typed again replaces the earlier one; at the summary, the summary is shown
again with the new value and nothing is sent before a yes."""

from __future__ import annotations

from rasa.shared.core.events import ActiveLoop, SlotSet

from actions.direct_debit import (
    ActionAskBankName,
    ActionAskDirectDebitConfirmed,
    ValidateDirectDebitForm,
)
from tests.actions.rasa_loop import Conversation, entity
from tests.actions.test_direct_debit import KEPT, PROFILE
from tests.actions.test_verification import FakePortal

NEW_IBAN = "FR76 1027 8060 0000 0202 8180 134"
KEPT_AGAIN = {**KEPT, "iban_masked": "FR76 **** **** **** **** ***0 134", "bank_name": "CIC"}


def portal() -> FakePortal:
    return FakePortal(
        {
            ("GET", "/direct-debit/profile"): (200, PROFILE),
            ("PUT", "/direct-debit/iban"): (200, KEPT_AGAIN),
        }
    )


def chat_at(requested: str, fake: FakePortal) -> Conversation:
    """The form filled up to ``requested`` (the summary when it is ``direct_debit_confirmed``)."""
    client = fake.client()
    chat = Conversation(
        [
            ValidateDirectDebitForm(client),
            ActionAskBankName(client),
            ActionAskDirectDebitConfirmed(client),
        ]
    )
    order = ["iban", "bank_name", "contact_confirmed", "debit_day", "rib_received"]
    values = {
        "verified": True,
        "iban": KEPT["iban_masked"],
        "iban_masked": KEPT["iban_masked"],
        "bank_name_proposed": KEPT["bank_name"],
        "bank_name": KEPT["bank_name"],
        "contact_confirmed": True,
        "debit_day": "7",
        "rib_received": "reçu",
        "upload_slot_id": 3.0,
    }
    filled = order if requested == "direct_debit_confirmed" else order[: order.index(requested)]
    for slot, value in values.items():
        if slot in filled or slot not in order:
            chat.tracker.update(SlotSet(slot, value))
    chat.tracker.update(ActiveLoop("direct_debit_form"))
    chat.tracker.update(SlotSet("requested_slot", requested))
    return chat


async def test_another_day_at_the_summary_shows_the_summary_again():
    fake = portal()
    chat = chat_at("direct_debit_confirmed", fake)
    text = "non, le 10"
    await chat.user(text, intent="deny", entities=[entity("debit_day", text, "le 10")])
    said = await chat.run("direct_debit_form")
    assert said == ["utter_value_corrected", "utter_ask_direct_debit_confirmed"]
    assert "le 10 du mois" in chat.texts[-1]
    assert chat.slot("debit_day") == "10"
    assert chat.slot("direct_debit_confirmed") is None
    assert chat.active_form == "direct_debit_form"
    assert ("POST", "/direct-debits") not in fake.calls


async def test_a_new_iban_while_the_bank_is_asked_replaces_the_first_one():
    fake = portal()
    chat = chat_at("bank_name", fake)
    text = f"non pardon, le bon IBAN c'est {NEW_IBAN}"
    await chat.user(text, entities=[entity("iban", text, NEW_IBAN)])
    said = await chat.run("direct_debit_form")
    # The portal keeps the new IBAN (and says which bank it is); the bank question comes again,
    # not "utter_invalid_bank_name" for the sentence.
    assert fake.sent[fake.calls.index(("PUT", "/direct-debit/iban"))] == {"iban": NEW_IBAN}
    assert said == ["utter_iban_accepted", "utter_ask_bank_name_proposed"]
    assert chat.slot("iban_masked") == KEPT_AGAIN["iban_masked"]
    assert chat.slot("bank_name") is None


async def test_a_new_iban_at_the_summary_asks_its_bank_before_the_summary():
    fake = portal()
    chat = chat_at("direct_debit_confirmed", fake)
    await chat.user(NEW_IBAN, intent="inform", entities=[entity("iban", NEW_IBAN, NEW_IBAN)])
    said = await chat.run("direct_debit_form")
    assert said == ["utter_iban_accepted", "utter_ask_bank_name_proposed"]
    assert "CIC" in chat.texts[-1]
    assert chat.slot("direct_debit_confirmed") is None
    assert ("POST", "/direct-debits") not in fake.calls
