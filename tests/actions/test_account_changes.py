"""Account changes in a verified chat: a new identifier is confirmed by a link sent to it, a new
password is chosen through a link, unsubscribing needs a yes and ends the verification."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.account_changes import (
    ActionRequestPasswordChange,
    ActionSubmitIdentifierChange,
    ActionUnsubscribe,
    ValidateChangeIdentifierForm,
)
from tests.actions.helpers import domain, tracker
from tests.actions.test_payments import slots_set
from tests.actions.test_verification import FakePortal, said


@pytest.mark.parametrize(
    ("typed", "slot", "reply"),
    [
        ("Claire.Martin@Example.org", "claire.martin@example.org", []),
        ("claire.martin@", None, ["utter_invalid_email"]),
    ],
)
async def test_the_new_address_must_be_an_email(typed, slot, reply):
    dispatcher = CollectingDispatcher()
    result = await ValidateChangeIdentifierForm(FakePortal({}).client()).validate_new_email(
        typed, dispatcher, tracker(), domain()
    )
    assert result == {"new_email": slot}
    assert said(dispatcher) == reply


async def test_the_confirmation_link_goes_to_the_new_address():
    portal = FakePortal(
        {("POST", "/identifier-changes"): (202, {"sent_to_masked": "c***@example.org"})}
    )
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitIdentifierChange(portal.client()).run(
        dispatcher, tracker(slots={"new_email": "claire.martin@example.org"}), domain()
    )
    assert portal.sent == [{"new_email": "claire.martin@example.org"}]
    assert said(dispatcher) == ["utter_identifier_change_sent"]
    assert dispatcher.messages[0]["email"] == "c***@example.org"
    assert slots_set(events) == {"new_email": None}


@pytest.mark.parametrize(
    ("status", "code", "reply"),
    [
        (400, "same_email", "utter_same_identifier"),
        (400, "invalid_email", "utter_invalid_email"),
        (401, "not_verified", "utter_verification_expired"),
        (429, "too_many_attempts", "utter_too_many_attempts"),
    ],
)
async def test_a_refused_change_is_explained(status, code, reply):
    portal = FakePortal({("POST", "/identifier-changes"): (status, {"error": code})})
    dispatcher = CollectingDispatcher()
    await ActionSubmitIdentifierChange(portal.client()).run(
        dispatcher, tracker(slots={"new_email": "claire.martin@example.org"}), domain()
    )
    assert said(dispatcher) == [reply]


async def test_a_new_password_is_never_asked_in_the_chat_but_linked_by_email():
    portal = FakePortal(
        {("POST", "/password-changes"): (202, {"sent_to_masked": "c***@example.org"})}
    )
    dispatcher = CollectingDispatcher()
    await ActionRequestPasswordChange(portal.client()).run(dispatcher, tracker(), domain())
    assert said(dispatcher) == ["utter_password_change_sent"]
    assert portal.calls == [("POST", "/password-changes")]


async def test_unsubscribing_needs_a_yes():
    portal = FakePortal({("POST", "/unsubscriptions"): (200, {"status": "unsubscribed"})})
    dispatcher = CollectingDispatcher()
    await ActionUnsubscribe(portal.client()).run(
        dispatcher, tracker(slots={"unsubscribe_confirmed": False}), domain()
    )
    assert said(dispatcher) == ["utter_unsubscribe_cancelled"] and portal.calls == []


async def test_unsubscribing_ends_the_verification_of_the_conversation():
    portal = FakePortal({("POST", "/unsubscriptions"): (200, {"status": "unsubscribed"})})
    dispatcher = CollectingDispatcher()
    events = await ActionUnsubscribe(portal.client()).run(
        dispatcher, tracker(slots={"unsubscribe_confirmed": True}), domain()
    )
    assert said(dispatcher) == ["utter_unsubscribed"]
    assert slots_set(events)["verified"] is False
