"""Direct debit in the chat: the IBAN goes to the portal in its turn, the bank is proposed, the
address is asked only when the prefilled one is wrong, the day is 2, 7 or 10, the RIB arrives
through a link, and the request is sent only when confirmed."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.direct_debit import (
    ActionAskBankName,
    ActionAskDebitDay,
    ActionAskRibReceived,
    ActionPrepareDirectDebit,
    ActionSubmitDirectDebit,
    ValidateDirectDebitForm,
    typed_day,
)
from tests.actions.helpers import domain, tracker
from tests.actions.test_payments import slots_set
from tests.actions.test_verification import FakePortal, said

PROFILE = {
    "holder_name": "Dupont",
    "address": "3 rue des Tilleuls, 67000 Strasbourg",
    "email": "claire.dupont@example.org",
    "debit_day": None,
    "debit_days": [2, 7, 10],
    "leases": [{"reference": "B1", "label": "Appartement"}],
    "pending_mandate_reference": None,
}
KEPT = {
    "iban_masked": "FR76 **** **** **** **** ***0 189",
    "country_code": "FR",
    "bank_name": "Société Générale",
    "bic": "SOGEFRPP",
}
FORM_SLOTS = [
    "iban",
    "bank_name",
    "contact_confirmed",
    "debit_address",
    "debit_day",
    "rib_received",
    "direct_debit_confirmed",
]


def profile_route(**changes: object) -> dict:
    return {("GET", "/direct-debit/profile"): (200, {**PROFILE, **changes})}


async def test_a_request_waiting_for_its_mandate_stops_the_flow():
    dispatcher = CollectingDispatcher()
    portal = FakePortal(profile_route(pending_mandate_reference="OPH-87654321-20261126-ABC123"))
    events = await ActionPrepareDirectDebit(portal.client()).run(dispatcher, tracker(), domain())
    assert said(dispatcher) == ["utter_direct_debit_pending"]
    assert dispatcher.messages[0]["reference"] == "OPH-87654321-20261126-ABC123"
    assert [e["name"] for e in events if e["event"] == "followup"] == ["action_listen"]


async def test_an_active_direct_debit_is_mentioned_before_a_new_request():
    dispatcher = CollectingDispatcher()
    portal = FakePortal(profile_route(debit_day=7))
    events = await ActionPrepareDirectDebit(portal.client()).run(dispatcher, tracker(), domain())
    assert said(dispatcher) == ["utter_direct_debit_already_active", "utter_direct_debit_intro"]
    assert not any(e["event"] == "followup" for e in events)


async def test_the_iban_reaches_the_portal_in_its_turn_and_only_its_mask_is_kept():
    portal = FakePortal({("PUT", "/direct-debit/iban"): (200, KEPT)})
    dispatcher = CollectingDispatcher()
    result = await ValidateDirectDebitForm(portal.client()).validate_iban(
        "fr76 3000 6000 0112 3456 7890 189", dispatcher, tracker(), domain()
    )
    assert portal.sent == [{"iban": "fr76 3000 6000 0112 3456 7890 189"}]
    assert result == {
        "iban": KEPT["iban_masked"],
        "iban_masked": KEPT["iban_masked"],
        "bank_name_proposed": "Société Générale",
    }
    assert said(dispatcher) == ["utter_iban_accepted"]


@pytest.mark.parametrize(
    ("code", "reply"),
    [
        ("invalid_iban_checksum", "utter_iban_checksum"),
        ("invalid_iban_length", "utter_iban_length"),
        ("invalid_iban_country", "utter_iban_country"),
        ("iban_not_sepa", "utter_iban_not_sepa"),
        ("invalid_iban_format", "utter_invalid_iban"),
        ("missing_field", "utter_invalid_iban"),
    ],
)
async def test_each_iban_refusal_is_explained(code: str, reply: str):
    portal = FakePortal({("PUT", "/direct-debit/iban"): (400, {"error": code, "field": "iban"})})
    dispatcher = CollectingDispatcher()
    result = await ValidateDirectDebitForm(portal.client()).validate_iban(
        "FR76 0000", dispatcher, tracker(), domain()
    )
    assert result == {"iban": None}
    assert said(dispatcher) == [reply]


async def test_an_expired_verification_ends_the_form_without_asking_more():
    portal = FakePortal({("PUT", "/direct-debit/iban"): (401, {"error": "not_verified"})})
    validation = ValidateDirectDebitForm(portal.client())
    result = await validation.validate_iban("FR76", CollectingDispatcher(), tracker(), domain())
    assert result == {"iban": None, "verified": False}
    left = await validation.required_slots(
        FORM_SLOTS, CollectingDispatcher(), tracker(slots={"verified": False}), domain()
    )
    assert left == []


async def test_the_proposed_bank_is_accepted_with_yes_or_replaced_by_a_typed_name():
    validation = ValidateDirectDebitForm(FakePortal({}).client())
    proposed = {"bank_name_proposed": "Société Générale"}
    yes = await validation.validate_bank_name(
        "oui", CollectingDispatcher(), tracker(slots=proposed, intent="affirm"), domain()
    )
    no = await validation.validate_bank_name(
        "non", CollectingDispatcher(), tracker(slots=proposed, intent="deny"), domain()
    )
    typed = await validation.validate_bank_name(
        "  Crédit   Mutuel ", CollectingDispatcher(), tracker(slots=proposed), domain()
    )
    assert yes == {"bank_name": "Société Générale"}
    assert no == {"bank_name": None, "bank_name_proposed": None}
    assert typed == {"bank_name": "Crédit Mutuel"}


async def test_the_bank_is_proposed_as_a_button_when_known():
    dispatcher = CollectingDispatcher()
    await ActionAskBankName(FakePortal({}).client()).run(
        dispatcher, tracker(slots={"bank_name_proposed": "Société Générale"}), domain()
    )
    assert dispatcher.messages[0]["response"] == "utter_ask_bank_name_proposed"
    assert dispatcher.messages[0]["buttons"][0]["payload"] == "/affirm"


async def test_the_address_is_asked_only_when_the_prefilled_one_is_wrong():
    validation = ValidateDirectDebitForm(FakePortal({}).client())

    async def needed(confirmed: bool | None) -> list[str]:
        return await validation.required_slots(
            FORM_SLOTS,
            CollectingDispatcher(),
            tracker(slots={"contact_confirmed": confirmed}),
            domain(),
        )

    assert "debit_address" not in await needed(True)
    assert "debit_address" not in await needed(None)
    assert "debit_address" in await needed(False)


async def test_a_household_without_address_on_file_is_asked_for_one():
    events = await ActionPrepareDirectDebit(FakePortal(profile_route(address="")).client()).run(
        CollectingDispatcher(), tracker(), domain()
    )
    assert slots_set(events)["contact_confirmed"] is False


@pytest.mark.parametrize(
    ("typed", "day"),
    [("7", 7), ("le 7", 7), ("Le 10 du mois", 10), ("le deux", 2), ("sept", 7), ("bof", None)],
)
def test_the_day_is_read_from_what_is_typed(typed: str, day: int | None):
    assert typed_day(typed) == day


@pytest.mark.parametrize(
    ("typed", "slot", "reply"),
    [
        ("2", "2", []),
        ("le 10", "10", []),
        ("le 15", None, ["utter_invalid_debit_day"]),
        ("demain", None, ["utter_invalid_debit_day"]),
    ],
)
async def test_only_the_2nd_7th_or_10th_can_be_chosen(typed, slot, reply):
    dispatcher = CollectingDispatcher()
    result = await ValidateDirectDebitForm(FakePortal(profile_route()).client()).validate_debit_day(
        typed, dispatcher, tracker(), domain()
    )
    assert result == {"debit_day": slot}
    assert said(dispatcher) == reply


async def test_the_days_are_offered_as_buttons():
    dispatcher = CollectingDispatcher()
    await ActionAskDebitDay(FakePortal(profile_route()).client()).run(
        dispatcher, tracker(), domain()
    )
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["2", "7", "10"]


@pytest.mark.parametrize(
    ("typed", "slot"),
    [
        ("12 rue de la Paix 67000 Strasbourg", "12 rue de la Paix 67000 Strasbourg"),
        ("chez moi", None),
    ],
)
async def test_a_new_address_needs_a_number_a_street_and_a_town(typed, slot):
    result = await ValidateDirectDebitForm(FakePortal({}).client()).validate_debit_address(
        typed, CollectingDispatcher(), tracker(), domain()
    )
    assert result == {"debit_address": slot}


async def test_the_rib_link_is_given_once_then_waited_for():
    created = {"slot_id": 5, "upload_url": "http://portal.test/depot/abc", "expires_at": "x"}
    portal = FakePortal(
        {
            ("POST", "/uploads"): (201, created),
            ("GET", "/uploads/5"): (200, {"status": "waiting", "purpose": "rib"}),
        }
    )
    first = CollectingDispatcher()
    events = await ActionAskRibReceived(portal.client()).run(first, tracker(), domain())
    assert slots_set(events) == {"upload_slot_id": 5}
    assert first.messages[0]["link"] == "http://portal.test/depot/abc"
    assert portal.sent[0] == {"purpose": "rib", "kinds": ["pdf", "image"]}
    again = CollectingDispatcher()
    await ActionAskRibReceived(portal.client()).run(
        again, tracker(slots={"upload_slot_id": 5}), domain()
    )
    assert said(again) == ["utter_upload_waiting"]
    assert portal.calls.count(("POST", "/uploads")) == 1


@pytest.mark.parametrize(
    ("status", "result", "reply"),
    [
        ("received", {"rib_received": "reçu"}, ["utter_file_received"]),
        ("waiting", {"rib_received": None}, []),
        ("expired", {"rib_received": None, "upload_slot_id": None}, ["utter_upload_expired"]),
    ],
)
async def test_the_rib_slot_is_filled_only_once_the_file_arrived(status, result, reply):
    portal = FakePortal(
        {("GET", "/uploads/5"): (200, {"status": status, "filename": "rib.pdf", "purpose": "rib"})}
    )
    dispatcher = CollectingDispatcher()
    answer = await ValidateDirectDebitForm(portal.client()).validate_rib_received(
        "c'est envoyé", dispatcher, tracker(slots={"upload_slot_id": 5}), domain()
    )
    assert answer == result
    assert said(dispatcher) == reply


CONFIRMED = {
    "iban": "FR76 **** **** **** **** ***0 189",
    "bank_name": "Société Générale",
    "contact_confirmed": True,
    "debit_day": "7",
    "rib_received": "reçu",
    "upload_slot_id": 5.0,
    "direct_debit_confirmed": True,
    "verified": True,
}


async def test_a_confirmed_request_is_sent_without_the_iban():
    created = {
        "mandate_reference": "OPH-87654321-20261126-ABC123",
        "status": "pending_signature",
        "debit_day": 7,
        "iban_masked": "FR76 ****",
        "email": "claire.dupont@example.org",
    }
    portal = FakePortal({**profile_route(), ("POST", "/direct-debits"): (201, created)})
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitDirectDebit(portal.client()).run(
        dispatcher, tracker(slots=CONFIRMED), domain()
    )
    assert portal.sent[-1] == {
        "bank_name": "Société Générale",
        "debit_day": 7,
        "holder_name": "Dupont",
        "address": "3 rue des Tilleuls, 67000 Strasbourg",
        "rib_slot_id": 5,
    }
    assert said(dispatcher) == ["utter_direct_debit_requested"]
    assert all(value is None for value in slots_set(events).values())


@pytest.mark.parametrize(
    ("code", "reply"),
    [
        ("iban_missing", "utter_iban_forgotten"),
        ("direct_debit_pending", "utter_direct_debit_pending"),
        ("rib_not_received", "utter_rib_not_received"),
        ("something_else", "utter_request_failed"),
    ],
)
async def test_a_refused_request_is_explained(code, reply):
    portal = FakePortal({**profile_route(), ("POST", "/direct-debits"): (409, {"error": code})})
    dispatcher = CollectingDispatcher()
    await ActionSubmitDirectDebit(portal.client()).run(
        dispatcher, tracker(slots=CONFIRMED), domain()
    )
    assert said(dispatcher) == [reply]


async def test_nothing_is_sent_when_the_tenant_says_no():
    portal = FakePortal(profile_route())
    dispatcher = CollectingDispatcher()
    await ActionSubmitDirectDebit(portal.client()).run(
        dispatcher, tracker(slots={**CONFIRMED, "direct_debit_confirmed": False}), domain()
    )
    assert said(dispatcher) == ["utter_direct_debit_cancelled"]
    assert ("POST", "/direct-debits") not in portal.calls
