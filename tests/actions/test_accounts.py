"""Submitting the account forms: what the portal receives and what the tenant is told."""

from __future__ import annotations

import httpx
import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.accounts import (
    ActionForgetIdentity,
    ActionSubmitActivationResend,
    ActionSubmitIdentifierReminder,
    ActionSubmitPasswordReset,
    ActionSubmitRegistration,
)
from tests.actions.helpers import RecordingPortal, domain, tracker

FILLED = {"client_number": "12345678", "surname": "Martin", "email": "m@example.org"}


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    return [message["response"] for message in dispatcher.messages]


def cleared(events: list[dict]) -> bool:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"} == {
        "client_number": None,
        "surname": None,
        "email": None,
        "input_failures": None,
        "verification_code": None,
    }


async def test_registration_sends_the_details_with_the_conversation_id_and_clears_them():
    portal = RecordingPortal()
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitRegistration(portal.client()).run(
        dispatcher, tracker(slots=FILLED, sender_id="rest:conv-42"), domain()
    )
    request = portal.requests[0]
    assert request.url.path == "/api/v1/registrations"
    assert request.headers["authorization"] == "Bearer secret"
    assert request.headers["x-conversation-id"] == "rest:conv-42"
    assert portal.sent_json() == {
        "client_number": "12345678",
        "surname": "Martin",
        "email": "m@example.org",
    }
    assert dispatcher.messages[0]["response"] == "utter_registration_submitted"
    assert dispatcher.messages[0]["email"] == "m@example.org"
    assert cleared(events)


@pytest.mark.parametrize(
    ("action_class", "path", "response", "sent"),
    [
        (
            ActionSubmitIdentifierReminder,
            "/api/v1/identifier-reminders",
            "utter_identifier_reminder_sent",
            {"client_number": "12345678", "surname": "Martin"},
        ),
        (
            ActionSubmitPasswordReset,
            "/api/v1/password-resets",
            "utter_password_reset_sent",
            {"email": "m@example.org"},
        ),
        (
            ActionSubmitActivationResend,
            "/api/v1/activation-emails",
            "utter_activation_resent",
            {"email": "m@example.org"},
        ),
    ],
)
async def test_each_recovery_flow_calls_its_route_and_confirms(action_class, path, response, sent):
    portal = RecordingPortal()
    dispatcher = CollectingDispatcher()
    events = await action_class(portal.client()).run(dispatcher, tracker(slots=FILLED), domain())
    assert portal.requests[0].url.path == path
    assert portal.sent_json() == sent
    assert responses(dispatcher) == [response]
    assert cleared(events)


@pytest.mark.parametrize(
    ("status", "body", "error", "expected"),
    [
        (429, {"error": "rate_limited", "message": "x"}, None, "utter_too_many_attempts"),
        (400, {"error": "invalid_email", "field": "email"}, None, "utter_invalid_email"),
        (
            400,
            {"error": "invalid_client_number", "field": "client_number"},
            None,
            "utter_invalid_client_number",
        ),
        (400, {"error": "bad_json"}, None, "utter_request_failed"),
        (500, {"error": "error"}, None, "utter_service_unavailable"),
        (202, {}, httpx.ConnectError("refused"), "utter_service_unavailable"),
        (202, {}, httpx.ReadTimeout("slow"), "utter_service_unavailable"),
    ],
)
async def test_portal_failures_become_french_responses_not_raw_errors(
    status, body, error, expected
):
    portal = RecordingPortal(status=status, body=body, error=error)
    dispatcher = CollectingDispatcher()
    events = await ActionSubmitRegistration(portal.client()).run(
        dispatcher, tracker(slots=FILLED), domain()
    )
    assert responses(dispatcher) == [expected]
    assert cleared(events)


async def test_the_same_reply_whatever_the_portal_found():
    """The portal answers 202 for a match and a mismatch alike; so does the bot."""
    replies = []
    for surname in ("Martin", "Inconnu"):
        dispatcher = CollectingDispatcher()
        await ActionSubmitRegistration(RecordingPortal().client()).run(
            dispatcher, tracker(slots={**FILLED, "surname": surname}), domain()
        )
        replies.append(dispatcher.messages)
    assert replies[0] == replies[1]


async def test_cancelling_forgets_half_typed_details():
    events = await ActionForgetIdentity().run(
        CollectingDispatcher(), tracker(slots=FILLED), domain()
    )
    assert cleared(events)
