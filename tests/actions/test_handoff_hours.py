"""Asking for a person outside opening hours, and the bot recording that it gave up."""

from __future__ import annotations

import httpx
import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import (
    AFTER_HOURS,
    ActionHandoff,
    ActionSuggestTopics,
    consecutive_fallbacks,
)
from tests.actions.helpers import RecordingPortal, domain, tracker

CLOSED = {
    "id": 4,
    "status": "recorded",
    "open_now": False,
    "next_opening": "2026-01-12T08:30:00+01:00",
    "next_opening_text": "lundi à 8 h 30",
}
OPEN = {"id": 4, "status": "recorded", "open_now": True}


async def handoff_replies(answer: dict, trained_domain: dict | None = None) -> list[dict]:
    dispatcher = CollectingDispatcher()
    portal = RecordingPortal(status=201, body=answer)
    await ActionHandoff(portal.client()).run(
        dispatcher, tracker(intent="human_handoff"), trained_domain or domain()
    )
    return dispatcher.messages


async def test_outside_opening_hours_the_tenant_is_told_when_a_person_will_answer() -> None:
    (message,) = await handoff_replies(CLOSED)

    assert message["response"] == AFTER_HOURS == "utter_handoff_after_hours"
    assert message["next_opening"] == "lundi à 8 h 30"
    variant = domain()["responses"][AFTER_HOURS][0]  # the French default; [1] is English
    assert (
        variant["text"]
        .format(next_opening=message["next_opening"])
        .endswith("un conseiller vous répondra dès la réouverture, lundi à 8 h 30.")
    )


async def test_during_opening_hours_the_request_is_simply_acknowledged() -> None:
    (message,) = await handoff_replies(OPEN)

    assert message["response"] == "utter_handoff_recorded"


async def test_a_portal_that_does_not_say_keeps_the_plain_acknowledgement() -> None:
    (message,) = await handoff_replies({"id": 4, "status": "recorded"})

    assert message["response"] == "utter_handoff_recorded"


async def test_a_model_trained_before_the_after_hours_response_keeps_the_plain_one() -> None:
    trained = {**domain(), "responses": dict(domain()["responses"])}
    del trained["responses"][AFTER_HOURS]

    (message,) = await handoff_replies(CLOSED, trained)

    assert message["response"] == "utter_handoff_recorded"


# --------------------------------------------------------------------------- the bot gives up


def fallback(text: str) -> dict:
    return {
        "event": "user",
        "text": text,
        "parse_data": {"intent": {"name": "nlu_fallback"}},
        "input_channel": "socketio",
    }


def understood(intent: str) -> dict:
    return {"event": "user", "text": "…", "parse_data": {"intent": {"name": intent}}}


BOT = {"event": "bot", "text": "Je ne suis pas sûr d'avoir compris."}


@pytest.mark.parametrize(
    ("earlier", "expected"),
    [
        ([], 1),
        ([fallback("blabla"), BOT], 2),
        ([fallback("a"), BOT, fallback("b"), BOT], 3),
        ([fallback("a"), BOT, understood("pay_rent"), BOT], 1),
    ],
)
def test_fallbacks_in_a_row_are_counted(earlier: list[dict], expected: int) -> None:
    assert consecutive_fallbacks(tracker(intent="nlu_fallback", events=earlier)) == expected


async def suggest(earlier: list[dict], portal: RecordingPortal) -> CollectingDispatcher:
    dispatcher = CollectingDispatcher()
    conversation = tracker(
        intent="nlu_fallback", events=earlier, channel="socketio", sender_id="socketio:sio-7"
    )
    await ActionSuggestTopics(portal.client()).run(dispatcher, conversation, domain())
    return dispatcher


async def test_the_second_fallback_in_a_row_puts_the_conversation_in_the_queue() -> None:
    portal = RecordingPortal(status=201, body=OPEN)

    await suggest([understood("pay_rent"), BOT], portal)
    assert portal.requests == []

    dispatcher = await suggest([understood("pay_rent"), BOT, fallback("zorglub"), BOT], portal)
    assert portal.sent_json() == {
        "conversation_id": "socketio:sio-7",
        "channel": "socketio",
        "reason": "bot_gave_up",
        "topic": "pay_rent",
    }
    # Silently: the tenant still gets the topics, nothing about the queue.
    assert [m["response"] for m in dispatcher.messages] == ["utter_fallback_topics"]

    await suggest([fallback("a"), BOT, fallback("b"), BOT], portal)
    assert len(portal.requests) == 1  # recorded once, not on every further fallback


async def test_the_topics_are_offered_even_when_the_portal_is_down() -> None:
    portal = RecordingPortal(error=httpx.ConnectError("refused"))

    dispatcher = await suggest([fallback("a"), BOT], portal)

    assert len(portal.requests) == 1
    assert [m["response"] for m in dispatcher.messages] == ["utter_fallback_topics"]
