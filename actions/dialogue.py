"""Dialogue replies that depend on what the bot said last, not on a form."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.dialogue.table import load


def last_bot_response(tracker: Tracker) -> str | None:
    """The name of the response the bot sent last (Rasa records it in the message metadata)."""
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            return (event.get("metadata") or {}).get("utter_action")
    return None


class ActionAnswerNo(Action):
    """ "Non" is a goodbye only as the answer to "anything else?"; otherwise the conversation
    goes on (a complaint or a stray "non" must never end it)."""

    def name(self) -> str:
        return "action_answer_no"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if last_bot_response(tracker) in load().closing_questions:
            dispatcher.utter_message(response="utter_goodbye")
        else:
            dispatcher.utter_message(response="utter_no_question_asked")
        return []
