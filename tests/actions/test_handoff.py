"""Handoff requests and the low-confidence fallback buttons."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoff, ActionSuggestTopics, likely_topics
from tests.actions.helpers import RecordingPortal, domain, tracker


async def test_handoff_is_recorded_with_channel_reason_and_topic():
    portal = RecordingPortal(status=201, body={"id": 1, "status": "recorded"})
    earlier = [
        {
            "event": "user",
            "text": "je veux payer",
            "parse_data": {"intent": {"name": "pay_rent"}},
            "input_channel": "telegram",
        }
    ]
    dispatcher = CollectingDispatcher()
    await ActionHandoff(portal.client()).run(
        dispatcher,
        tracker(
            intent="human_handoff", events=earlier, channel="telegram", sender_id="telegram:c-9"
        ),
        domain(),
    )
    assert portal.sent_json() == {
        "conversation_id": "telegram:c-9",
        "channel": "telegram",
        "reason": "tenant_asked",
        "topic": "pay_rent",
    }
    assert [m["response"] for m in dispatcher.messages] == ["utter_handoff_recorded"]


async def test_handoff_after_a_help_page_answer_carries_the_flow_it_offered():
    """Staff see "setup_direct_debit" for a tenant who asked which days the debit can be."""
    portal = RecordingPortal(status=201, body={"id": 1, "status": "recorded"})
    earlier = [
        {
            "event": "user",
            "text": "quels jours pour le prélèvement ?",
            "parse_data": {
                "intent": {"name": "faq"},
                "response_selector": {
                    "faq": {"response": {"intent_response_key": "faq/direct_debit_days"}}
                },
            },
        }
    ]
    await ActionHandoff(portal.client()).run(
        CollectingDispatcher(), tracker(intent="human_handoff", events=earlier), domain()
    )
    assert portal.sent_json()["topic"] == "setup_direct_debit"


async def test_handoff_after_repeated_failures_says_so():
    portal = RecordingPortal(status=201, body={"id": 1})
    await ActionHandoff(portal.client()).run(
        CollectingDispatcher(), tracker(slots={"input_failures": 3}), domain()
    )
    assert portal.sent_json()["reason"] == "repeated_failures"


def test_likely_topics_keep_only_topics_in_rank_order():
    ranking = [
        {"name": "nlu_fallback"},
        {"name": "greet"},
        {"name": "pay_rent"},
        {"name": "check_balance"},
        {"name": "inform"},
        {"name": "setup_direct_debit"},
        {"name": "register"},
    ]
    assert likely_topics(ranking) == ["pay_rent", "check_balance", "setup_direct_debit"]


async def test_fallback_offers_french_topic_buttons_and_a_person():
    dispatcher = CollectingDispatcher()
    ranking = [{"name": "nlu_fallback"}, {"name": "forgot_password"}, {"name": "login_help"}]
    await ActionSuggestTopics().run(
        dispatcher, tracker(intent="nlu_fallback", intent_ranking=ranking), domain()
    )
    message = dispatcher.messages[0]
    assert message["response"] == "utter_fallback_topics"
    assert [b["title"] for b in message["buttons"]] == [
        "Mot de passe oublié",
        "Me connecter",
        "Parler à un conseiller",
    ]
    assert [b["payload"] for b in message["buttons"]] == [
        "/forgot_password",
        "/login_help",
        "/human_handoff",
    ]
