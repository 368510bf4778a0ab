"""Handing a conversation to a person, and the fallback that offers likely topics as buttons."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.account_forms import FAILURES_BEFORE_HANDOFF_OFFER
from actions.accounts import clear_identity_slots
from actions.base import PortalAction, UsesPortal
from actions.identity import conversation_of
from actions.portal_client import PortalClientError
from actions.wording import response_text

log = logging.getLogger(__name__)

#: Intents the fallback may offer; each has an ``utter_topic_<intent>`` label in domain.yml.
TOPIC_INTENTS = (
    "register",
    "forgot_identifier",
    "forgot_password",
    "login_help",
    "activation_email_missing",
    "find_client_number",
    "update_insurance",
    "setup_direct_debit",
    "pay_rent",
    "check_balance",
    "unsubscribe",
    "move_out",
    "change_identifier",
    "change_password",
)
DEFAULT_TOPICS = ("register", "forgot_password", "pay_rent")
MAX_SUGGESTIONS = 3
#: Messages in a row the NLU could not place before the bot records that it gave up.
FALLBACKS_BEFORE_GIVING_UP = 2
AFTER_HOURS = "utter_handoff_after_hours"


def _faq_topic(parse_data: dict[str, Any], domain: DomainDict) -> str | None:
    """The flow a help-page answer offers ("Le faire maintenant"), as the question's topic."""
    selected = (parse_data.get("response_selector") or {}).get("faq", {}).get("response", {})
    key = selected.get("intent_response_key")
    variants = (_responses(domain).get(f"utter_{key}") if key else None) or [{}]
    for button in variants[0].get("buttons") or []:
        payload = str(button.get("payload", "")).removeprefix("/")
        if payload in TOPIC_INTENTS:
            return payload
    return None


def _last_topic(tracker: Tracker, domain: DomainDict) -> str | None:
    """The topic of the latest message that had one, so staff see what the tenant was after."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            parse_data = event.get("parse_data") or {}
            intent = parse_data.get("intent", {}).get("name")
            if intent in TOPIC_INTENTS:
                return intent
            if intent == "faq" and (topic := _faq_topic(parse_data, domain)):
                return topic
    return None


class ActionHandoff(PortalAction):
    """Record the request for a person so the staff console can show it, then say so."""

    def name(self) -> str:
        return "action_handoff"

    async def call(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        failures = int(tracker.get_slot("input_failures") or 0)
        reason = (
            "repeated_failures" if failures >= FAILURES_BEFORE_HANDOFF_OFFER else "tenant_asked"
        )
        recorded = await self.portal.record_handoff(
            conversation_id=conversation_of(tracker),
            channel=tracker.get_latest_input_channel() or "unknown",
            reason=reason,
            topic=_last_topic(tracker, domain),
        )
        next_opening = recorded.get("next_opening_text")
        # A model trained before the after-hours response existed cannot send it.
        if recorded.get("open_now") is False and next_opening and AFTER_HOURS in _responses(domain):
            dispatcher.utter_message(response=AFTER_HOURS, next_opening=next_opening)
        else:
            dispatcher.utter_message(response="utter_handoff_recorded")
        return clear_identity_slots()


def _responses(domain: DomainDict) -> dict[str, Any]:
    return domain.get("responses") or {}


def consecutive_fallbacks(tracker: Tracker) -> int:
    """How many of the latest user messages in a row the NLU could not place."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        if (event.get("parse_data") or {}).get("intent", {}).get("name") != "nlu_fallback":
            break
        count += 1
    return count


def likely_topics(intent_ranking: list[dict[str, Any]]) -> list[str]:
    """The most likely topic intents of a message the NLU was unsure about."""
    ranked = [item.get("name") for item in intent_ranking]
    topics = [name for name in ranked if name in TOPIC_INTENTS][:MAX_SUGGESTIONS]
    return topics or list(DEFAULT_TOPICS)


def topic_label(intent: str, domain: DomainDict, tracker: Tracker) -> str:
    return response_text(f"utter_topic_{intent}", domain, tracker)


class ActionSuggestTopics(UsesPortal, Action):
    """Low-confidence message or complaint: offer the likely topics and a person as buttons
    instead of guessing (a complaint starts with an apology).

    When it happens again right after, the bot has given up: the conversation goes to the
    staff console's takeover queue (silently; the tenant still gets the buttons).
    """

    def name(self) -> str:
        return "action_suggest_topics"

    async def _record_giving_up(self, tracker: Tracker, domain: DomainDict) -> None:
        try:
            await self.portal.record_handoff(
                conversation_id=conversation_of(tracker),
                channel=tracker.get_latest_input_channel() or "unknown",
                reason="bot_gave_up",
                topic=_last_topic(tracker, domain),
            )
        except PortalClientError as error:  # the buttons matter more than the queue entry
            log.warning("conversation %s: giving up not recorded (%s)", tracker.sender_id, error)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if consecutive_fallbacks(tracker) == FALLBACKS_BEFORE_GIVING_UP:
            await self._record_giving_up(tracker, domain)
        topics = likely_topics(tracker.latest_message.get("intent_ranking") or [])
        buttons = [
            {"title": topic_label(topic, domain, tracker), "payload": f"/{topic}"}
            for topic in topics
        ]
        buttons.append(
            {"title": topic_label("human_handoff", domain, tracker), "payload": "/human_handoff"}
        )
        complaint = (tracker.latest_message.get("intent") or {}).get("name") == "complaint"
        lead = "utter_complaint_topics" if complaint else "utter_fallback_topics"
        dispatcher.utter_message(response=lead, buttons=buttons)
        return []
