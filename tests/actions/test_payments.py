"""Paying rent from the chat: lease choice, amount rules, confirmation, the payment link."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.payments import (
    ActionAskPaymentAmount,
    ActionAskPaymentLease,
    ActionCreatePayment,
    ActionPreparePayment,
    ValidatePaymentForm,
)
from tests.actions.helpers import domain, tracker
from tests.actions.test_verification import DUPONT, NGUYEN, FakePortal, said


def slots_set(events: list[dict]) -> dict:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def test_a_single_lease_is_chosen_for_the_tenant():
    events = await ActionPreparePayment(FakePortal({("GET", "/me"): (200, DUPONT)}).client()).run(
        CollectingDispatcher(), tracker(), domain()
    )
    assert slots_set(events)["payment_lease"] == "B1"


async def test_several_leases_are_offered_as_buttons():
    portal = FakePortal({("GET", "/me"): (200, NGUYEN)}).client()
    events = await ActionPreparePayment(portal).run(CollectingDispatcher(), tracker(), domain())
    assert slots_set(events)["payment_lease"] is None
    dispatcher = CollectingDispatcher()
    await ActionAskPaymentLease(portal).run(dispatcher, tracker(), domain())
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["B2", "B3"]


async def test_the_balance_is_offered_as_the_default_amount():
    dispatcher = CollectingDispatcher()
    await ActionAskPaymentAmount(FakePortal({("GET", "/me"): (200, DUPONT)}).client()).run(
        dispatcher, tracker(slots={"payment_lease": "B1"}), domain()
    )
    message = dispatcher.messages[0]
    assert message["response"] == "utter_ask_payment_amount_due"
    assert message["buttons"] == [{"title": "412,50\u00a0€", "payload": "412.50"}]


@pytest.mark.parametrize(
    ("typed", "slot", "reply"),
    [
        ("412,50", "412.50", []),
        ("412,5 €", "412.50", []),
        ("1 200", "1200.00", []),
        ("0", None, ["utter_amount_not_positive"]),
        ("-20", None, ["utter_amount_not_positive"]),
        ("12,345", None, ["utter_amount_too_many_decimals"]),
        ("999999", None, ["utter_amount_too_high"]),
        ("beaucoup", None, ["utter_invalid_amount"]),
    ],
)
async def test_amount_rules_as_the_tenant_types(typed, slot, reply):
    dispatcher = CollectingDispatcher()
    result = await ValidatePaymentForm(FakePortal({}).client()).validate_payment_amount(
        typed, dispatcher, tracker(), domain()
    )
    assert result == {"payment_amount": slot}
    assert said(dispatcher) == reply


async def test_an_unknown_lease_is_refused():
    dispatcher = CollectingDispatcher()
    result = await ValidatePaymentForm(
        FakePortal({("GET", "/me"): (200, NGUYEN)}).client()
    ).validate_payment_lease("garage", dispatcher, tracker(), domain())
    assert result == {"payment_lease": None}
    assert said(dispatcher) == ["utter_invalid_payment_lease"]


async def test_confirmed_payment_gives_the_link():
    portal = FakePortal(
        {
            ("POST", "/payments"): (
                201,
                {
                    "payment_url": "http://portal.test/paiement/abc",
                    "amount": "412.50",
                    "lease_label": "Logement",
                    "expires_at": "2026-11-26T10:30:00+00:00",
                },
            ),
        }
    )
    dispatcher = CollectingDispatcher()
    events = await ActionCreatePayment(portal.client()).run(
        dispatcher,
        tracker(
            slots={"payment_lease": "B1", "payment_amount": "412.50", "payment_confirmed": True}
        ),
        domain(),
    )
    assert said(dispatcher) == ["utter_payment_link"]
    assert dispatcher.messages[0]["link"] == "http://portal.test/paiement/abc"
    assert slots_set(events) == {
        "payment_lease": None,
        "payment_amount": None,
        "payment_confirmed": None,
    }


async def test_declined_confirmation_creates_nothing():
    portal = FakePortal({})
    dispatcher = CollectingDispatcher()
    await ActionCreatePayment(portal.client()).run(
        dispatcher, tracker(slots={"payment_confirmed": False}), domain()
    )
    assert said(dispatcher) == ["utter_payment_cancelled"] and portal.calls == []


@pytest.mark.parametrize(("profile", "slot"), [(DUPONT, "412.50"), (NGUYEN, None)])
async def test_yes_to_the_amount_question_pays_what_is_due(profile, slot):
    dispatcher = CollectingDispatcher()
    lease = profile["leases"][0]["reference"]
    result = await ValidatePaymentForm(
        FakePortal({("GET", "/me"): (200, profile)}).client()
    ).validate_payment_amount(
        "oui", dispatcher, tracker(intent="affirm", slots={"payment_lease": lease}), domain()
    )
    assert result == {"payment_amount": slot}
    assert said(dispatcher) == ([] if slot else ["utter_invalid_amount"])


@pytest.mark.parametrize(
    ("typed", "slot"),
    [
        ("B3", "B3"),
        ("Parking", "B3"),
        ("le parking", "B3"),
        ("parking, 45 €", "B3"),
        ("B2 ou B3", None),
    ],
)
async def test_a_lease_is_named_by_its_reference_or_label(typed, slot):
    dispatcher = CollectingDispatcher()
    result = await ValidatePaymentForm(
        FakePortal({("GET", "/me"): (200, NGUYEN)}).client()
    ).validate_payment_lease(typed, dispatcher, tracker(), domain())
    assert result == {"payment_lease": slot}
