"""A "non" is a goodbye only after "anything else?"; a complaint gets an apology and topics."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.dialogue import ActionAnswerNo
from actions.handoff import ActionSuggestTopics
from tests.actions.helpers import domain, tracker
from tests.actions.test_verification import FakePortal, said


def bot(response: str) -> dict:
    return {"event": "bot", "text": "...", "metadata": {"utter_action": response}}


async def answer_no_after(*events: dict) -> list[str]:
    dispatcher = CollectingDispatcher()
    await ActionAnswerNo().run(
        dispatcher, tracker(text="non", intent="deny", events=list(events)), domain()
    )
    return said(dispatcher)


async def test_no_after_anything_else_is_a_goodbye():
    assert await answer_no_after(bot("utter_anything_else")) == ["utter_goodbye"]
    assert await answer_no_after(bot("utter_thanks")) == ["utter_goodbye"]


async def test_no_out_of_the_blue_or_after_an_answer_keeps_the_conversation_going():
    assert await answer_no_after() == ["utter_no_question_asked"]
    assert await answer_no_after(bot("utter_anything_else"), bot("utter_faq/debit_days")) == [
        "utter_no_question_asked"
    ]


async def test_a_complaint_gets_an_apology_topics_and_a_person():
    dispatcher = CollectingDispatcher()
    ranking = [
        {"name": "complaint", "confidence": 0.8},
        {"name": "login_help", "confidence": 0.1},
    ]
    await ActionSuggestTopics(FakePortal({}).client()).run(
        dispatcher,
        tracker(text="le site marche pas", intent="complaint", intent_ranking=ranking),
        domain(),
    )
    assert said(dispatcher) == ["utter_complaint_topics"]
    payloads = [button["payload"] for button in dispatcher.messages[0]["buttons"]]
    assert payloads == ["/login_help", "/human_handoff"]
