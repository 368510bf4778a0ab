"""The verification form, resuming the topic, the balance and the unpaid-rent alert."""

from __future__ import annotations

import json

import httpx
import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.balance import ActionShowBalance
from actions.portal_client import PortalClient
from actions.verification import (
    ActionCheckVerification,
    ActionExplainPendingTopic,
    ActionResumeTopic,
    ActionSessionStart,
    ValidateVerifyForm,
)
from bot.policy.money import format_eur
from tests.actions.helpers import domain, tracker

DUPONT = {
    "email": "claire.dupont@example.org",
    "total_due": "412.50",
    "leases": [
        {
            "reference": "B1",
            "label": "Logement",
            "monthly_rent": "412.50",
            "balance_due": "412.50",
            "direct_debit_day": None,
        },
    ],
}
NGUYEN = {
    "email": "minh.nguyen@example.org",
    "total_due": "0.00",
    "leases": [
        {
            "reference": "B2",
            "label": "Appartement",
            "monthly_rent": "498.00",
            "balance_due": "0.00",
            "direct_debit_day": 7,
        },
        {
            "reference": "B3",
            "label": "Parking",
            "monthly_rent": "45.00",
            "balance_due": "-10.00",
            "direct_debit_day": 7,
        },
    ],
}


class FakePortal:
    """Answers by route; records what the actions asked."""

    def __init__(self, routes: dict[tuple[str, str], tuple[int, dict]]):
        self.routes = routes
        self.calls: list[tuple[str, str]] = []
        self.sent: list[dict] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        key = (request.method, request.url.path.removeprefix("/api/v1"))
        self.calls.append(key)
        self.sent.append(json.loads(request.content) if request.content else {})
        status, body = self.routes.get(key, (404, {"error": "not_found"}))
        return httpx.Response(status, json=body)

    def client(self) -> PortalClient:
        return PortalClient("http://portal.test", "t", transport=httpx.MockTransport(self.handler))


def said(dispatcher: CollectingDispatcher) -> list[str]:
    return [m["response"] for m in dispatcher.messages]


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        ("412.50", "412,50\u00a0€"),
        ("1234.5", "1\u202f234,50\u00a0€"),
        ("0", "0,00\u00a0€"),
        ("-10", "-10,00\u00a0€"),
    ],
)
def test_french_money_format(amount, text):
    assert format_eur(amount) == text


async def test_unverified_conversation_is_sent_to_the_form_with_its_topic_kept():
    portal = FakePortal({("GET", "/me"): (401, {"error": "not_verified"})})
    events = await ActionCheckVerification(portal.client()).run(
        CollectingDispatcher(), tracker(intent="check_balance"), domain()
    )
    assert {e["name"]: e["value"] for e in events} == {
        "verified": False,
        "pending_topic": "check_balance",
    }


async def test_a_how_question_gets_the_steps_and_the_offer_before_any_verification():
    """ "comment je me désinscris ?" is answered from the help page; no code is asked yet."""
    portal = FakePortal({("GET", "/me"): (401, {"error": "not_verified"})})
    dispatcher = CollectingDispatcher()
    asking_how = tracker(intent="unsubscribe", text="comment je me désinscris ?")
    asking_how.latest_message["entities"] = [{"entity": "howto", "value": "comment je"}]
    events = await ActionCheckVerification(portal.client()).run(dispatcher, asking_how, domain())
    assert said(dispatcher) == ["utter_unsubscribe_howto", "utter_offer_flow_here"]
    assert dispatcher.messages[1]["buttons"] == [
        {"title": "Le faire maintenant", "payload": "/unsubscribe"}
    ]
    assert [e["name"] for e in events if e["event"] == "followup"] == ["action_listen"]
    assert {e["name"]: e["value"] for e in events if e["event"] == "slot"} == {
        "verified": False,
        "pending_topic": None,
    }


async def test_email_step_asks_the_portal_for_a_code_and_says_so_whatever_it_found():
    portal = FakePortal({("POST", "/verifications"): (202, {"status": "accepted"})})
    dispatcher = CollectingDispatcher()
    result = await ValidateVerifyForm(portal.client()).validate_email(
        "C'est Claire.Dupont@example.org", dispatcher, tracker(), domain()
    )
    assert result == {"email": "claire.dupont@example.org"}
    assert said(dispatcher) == ["utter_code_sent"]


@pytest.mark.parametrize(
    ("status", "body", "expected_slots", "expected_reply"),
    [
        (200, {"verified": True}, {"verification_code": "vérifié", "verified": True}, []),
        (
            400,
            {"error": "wrong_code", "attempts_left": 3},
            {"verification_code": None},
            ["utter_wrong_code"],
        ),
        (
            429,
            {"error": "too_many_attempts"},
            {"verification_code": "échec", "verified": False},
            ["utter_too_many_codes"],
        ),
        (
            410,
            {"error": "code_expired"},
            {"verification_code": None, "email": None},
            ["utter_code_expired"],
        ),
    ],
)
async def test_code_step(status, body, expected_slots, expected_reply):
    portal = FakePortal({("POST", "/verifications/code"): (status, body)})
    dispatcher = CollectingDispatcher()
    result = await ValidateVerifyForm(portal.client()).validate_verification_code(
        "123 456", dispatcher, tracker(), domain()
    )
    assert result == expected_slots
    assert said(dispatcher) == expected_reply
    # The code typed never ends up in a slot.
    assert "123456" not in str(result)


async def test_a_code_that_is_not_six_digits_is_explained_without_calling_the_portal():
    portal = FakePortal({})
    dispatcher = CollectingDispatcher()
    result = await ValidateVerifyForm(portal.client()).validate_verification_code(
        "12345", dispatcher, tracker(), domain()
    )
    assert result == {"verification_code": None}
    assert said(dispatcher) == ["utter_code_format"] and portal.calls == []


async def test_after_verification_an_unpaid_balance_is_announced_before_other_topics():
    portal = FakePortal({("GET", "/me"): (200, DUPONT)})
    dispatcher = CollectingDispatcher()
    events = await ActionResumeTopic(portal.client()).run(
        dispatcher,
        tracker(slots={"verified": True, "pending_topic": "update_insurance"}),
        domain(),
    )
    assert said(dispatcher) == ["utter_verified", "utter_unpaid_alert"]
    assert [e["name"] for e in events if e["event"] == "followup"] == ["action_prepare_insurance"]
    assert dispatcher.messages[1]["amount"] == "412,50\u00a0€"


async def test_after_verification_the_balance_topic_is_resumed():
    dispatcher = CollectingDispatcher()
    events = await ActionResumeTopic(FakePortal({}).client()).run(
        dispatcher, tracker(slots={"verified": True, "pending_topic": "check_balance"}), domain()
    )
    assert {"event": "followup", "name": "action_show_balance", "timestamp": None} in events
    assert said(dispatcher) == ["utter_verified"]


async def test_failed_verification_points_to_the_extranet():
    dispatcher = CollectingDispatcher()
    await ActionResumeTopic(FakePortal({}).client()).run(
        dispatcher, tracker(slots={"verified": False, "pending_topic": "check_balance"}), domain()
    )
    assert said(dispatcher) == [
        "utter_verification_failed",
        "utter_balance_howto",
        "utter_anything_else",
    ]


async def test_balance_per_lease_with_debt_credit_and_alert():
    dispatcher = CollectingDispatcher()
    await ActionShowBalance(FakePortal({("GET", "/me"): (200, NGUYEN)}).client()).run(
        dispatcher, tracker(), domain()
    )
    assert said(dispatcher) == [
        "utter_balance_lease_clear",
        "utter_balance_lease_credit",
        "utter_balance_all_clear",
    ]
    dispatcher = CollectingDispatcher()
    await ActionShowBalance(FakePortal({("GET", "/me"): (200, DUPONT)}).client()).run(
        dispatcher, tracker(), domain()
    )
    assert said(dispatcher) == ["utter_balance_lease_due", "utter_unpaid_alert"]


async def test_expired_grant_while_showing_the_balance():
    portal = FakePortal({("GET", "/me"): (401, {"error": "not_verified"})})
    dispatcher = CollectingDispatcher()
    events = await ActionShowBalance(portal.client()).run(dispatcher, tracker(), domain())
    assert said(dispatcher) == ["utter_verification_expired"]
    assert events == [{"event": "slot", "name": "verified", "value": False, "timestamp": None}]


async def test_widget_session_token_verifies_at_session_start_and_alerts():
    portal = FakePortal(
        {
            ("POST", "/verifications/session-token"): (200, {"verified": True}),
            ("GET", "/me"): (200, DUPONT),
        }
    )
    dispatcher = CollectingDispatcher()
    events = await ActionSessionStart(portal.client()).run(
        dispatcher,
        tracker(slots={"session_started_metadata": {"session_token": "abc"}}),
        domain(),
    )
    assert {"event": "slot", "name": "verified", "value": True, "timestamp": None} in events
    assert said(dispatcher) == ["utter_unpaid_alert"]


async def test_session_start_without_token_asks_nothing_of_the_portal():
    portal = FakePortal({})
    events = await ActionSessionStart(portal.client()).run(
        CollectingDispatcher(), tracker(), domain()
    )
    assert [e["event"] for e in events] == ["session_started", "action"]
    assert portal.calls == []


@pytest.mark.parametrize(
    ("topic", "reply"),
    [
        ("setup_direct_debit", "utter_direct_debit_howto"),
        ("update_insurance", "utter_insurance_howto"),
        ("unsubscribe", "utter_unsubscribe_howto"),
        (None, "utter_cancelled"),
    ],
)
async def test_declining_verification_explains_how_to_do_it_in_the_tenant_area(topic, reply):
    dispatcher = CollectingDispatcher()
    events = await ActionExplainPendingTopic().run(
        dispatcher, tracker(slots={"pending_topic": topic}), domain()
    )
    assert said(dispatcher) == [reply]
    cleared = {e["name"] for e in events if e["value"] is None}
    assert {"pending_topic", "email", "verification_code"} <= cleared
