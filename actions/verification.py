"""Verifying a conversation before account data: the email-code form, the widget session token,
and picking up the topic the tenant asked about once verified.

The ``verified`` slot only steers the dialogue; the portal's grant is what opens account data,
so every account action asks the portal again and copes with a grant that has expired.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, FollowupAction, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.accounts import clear_identity_slots
from actions.balance import unpaid_alert
from actions.base import PortalAction, UsesPortal
from actions.form_base import TenantFormValidation
from actions.identity import conversation_of
from actions.portal_client import (
    NotVerified,
    PortalClient,
    PortalRejected,
    PortalUnavailable,
    TooManyAttempts,
    default_client,
)
from actions.slot_rules import email_from
from actions.wording import response_text
from bot.dialogue.default_texts import UNAVAILABLE_RESPONSE

#: What to do once verified, per topic the tenant asked about.
TOPIC_ACTIONS = {
    "check_balance": "action_show_balance",
    "pay_rent": "action_prepare_payment",
    "setup_direct_debit": "action_prepare_direct_debit",
    "update_insurance": "action_prepare_insurance",
    "change_identifier": "action_prepare_identifier_change",
    "change_password": "action_request_password_change",
    "unsubscribe": "action_prepare_unsubscribe",
}
#: Where the tenant finds it themselves when verification failed.
TOPIC_HOWTOS = {
    "check_balance": "utter_balance_howto",
    "pay_rent": "utter_pay_rent_howto",
    "setup_direct_debit": "utter_direct_debit_howto",
    "update_insurance": "utter_insurance_howto",
    "change_identifier": "utter_change_identifier",
    "change_password": "utter_change_password",
    "unsubscribe": "utter_unsubscribe_howto",
}
#: Topics that already show the balance: no separate unpaid-rent alert before them.
TOPICS_SHOWING_BALANCE = {"check_balance", "pay_rent"}
CODE_PROBLEMS = {
    "code_expired": "utter_code_expired",
    "no_challenge": "utter_code_expired",
}


def asks_how(tracker: Tracker) -> bool:
    """ "Comment je me désinscris ?" asks for the steps, not (yet) for the thing itself."""
    return any(
        entity.get("entity") == "howto" for entity in tracker.latest_message.get("entities") or []
    )


def explain_then_offer(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, topic: str
) -> list[dict[str, Any]]:
    """The help page's steps, then the offer to do it here; no verification is asked yet."""
    dispatcher.utter_message(response=TOPIC_HOWTOS[topic])
    button = {
        "title": response_text("utter_button_do_it_now", domain, tracker),
        "payload": f"/{topic}",
    }
    dispatcher.utter_message(response="utter_offer_flow_here", buttons=[button])
    return [
        SlotSet("verified", False),
        SlotSet("pending_topic", None),
        FollowupAction("action_listen"),
    ]


class ActionCheckVerification(PortalAction):
    """Is this conversation verified in the portal? Remember which topic to resume."""

    def name(self) -> str:
        return "action_check_verification"

    async def call(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        topic = tracker.get_intent_of_latest_message()
        try:
            await self.portal.me(conversation_id=conversation_of(tracker))
        except NotVerified:
            if asks_how(tracker) and topic in TOPIC_HOWTOS:
                return explain_then_offer(dispatcher, tracker, domain, topic)
            return [SlotSet("verified", False), SlotSet("pending_topic", topic)]
        return [SlotSet("verified", True), SlotSet("pending_topic", topic)]

    def after_failure(self) -> list[dict[str, Any]]:
        return [SlotSet("verified", False), SlotSet("pending_topic", None)]


class ValidateVerifyForm(UsesPortal, TenantFormValidation):
    """Email → the portal emails a code (same reply whether or not it matches); code → grant."""

    def name(self) -> str:
        return "validate_verify_form"

    async def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        email = email_from(str(value) if value is not None else None)
        if email is None:
            dispatcher.utter_message(response="utter_invalid_email")
            return {"email": None}
        try:
            await self.portal.start_verification(
                conversation_id=conversation_of(tracker), email=email
            )
        except TooManyAttempts:
            dispatcher.utter_message(response="utter_too_many_attempts")
            return {"email": None}
        except (PortalRejected, PortalUnavailable):
            dispatcher.utter_message(response=UNAVAILABLE_RESPONSE)
            return {"email": None}
        dispatcher.utter_message(response="utter_code_sent", email=email)
        return {"email": email}

    async def validate_verification_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        typed = "".join(ch for ch in str(value or "") if ch.isdigit())
        if len(typed) != 6:
            dispatcher.utter_message(response="utter_code_format")
            return {"verification_code": None}
        try:
            await self.portal.confirm_code(conversation_id=conversation_of(tracker), code=typed)
        except TooManyAttempts:
            dispatcher.utter_message(response="utter_too_many_codes")
            # Ends the form, unverified; the typed code itself is never kept.
            return {"verification_code": "échec", "verified": False}
        except PortalRejected as rejected:
            if rejected.code == "wrong_code":
                left = rejected.body.get("attempts_left", 0)
                dispatcher.utter_message(response="utter_wrong_code", attempts_left=left)
                return {"verification_code": None}
            dispatcher.utter_message(
                response=CODE_PROBLEMS.get(rejected.code, "utter_code_expired")
            )
            return {"verification_code": None, "email": None}
        except PortalUnavailable:
            dispatcher.utter_message(response=UNAVAILABLE_RESPONSE)
            return {"verification_code": None}
        return {"verification_code": "vérifié", "verified": True}


class ActionResumeTopic(PortalAction):
    """After the verification form: say so, alert about unpaid rent, then do what was asked."""

    def name(self) -> str:
        return "action_resume_topic"

    async def call(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = [SlotSet("verification_code", None), SlotSet("email", None)]
        topic = tracker.get_slot("pending_topic")
        if not tracker.get_slot("verified"):
            dispatcher.utter_message(response="utter_verification_failed")
            if topic in TOPIC_HOWTOS:
                dispatcher.utter_message(response=TOPIC_HOWTOS[topic])
            dispatcher.utter_message(response="utter_anything_else")
            return [*events, SlotSet("pending_topic", None)]
        dispatcher.utter_message(response="utter_verified")
        if topic not in TOPICS_SHOWING_BALANCE:
            profile = await self.portal.me(conversation_id=conversation_of(tracker))
            unpaid_alert(dispatcher, profile)
        events.append(SlotSet("pending_topic", None))
        if topic in TOPIC_ACTIONS:
            events.append(FollowupAction(TOPIC_ACTIONS[topic]))
        else:
            dispatcher.utter_message(response="utter_anything_else")
        return events


class ActionExplainPendingTopic(Action):
    """The tenant declined to verify: forget what was typed and explain how to do it from the
    tenant area instead."""

    def name(self) -> str:
        return "action_explain_pending_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        howto = TOPIC_HOWTOS.get(tracker.get_slot("pending_topic") or "")
        dispatcher.utter_message(response=howto or "utter_cancelled")
        return [
            *clear_identity_slots(),
            SlotSet("verification_code", None),
            SlotSet("pending_topic", None),
        ]


class ActionSessionStart(Action):
    """Start of a conversation; a widget on the logged-in page passes a signed session token in
    the session metadata, which verifies the conversation without a code."""

    def __init__(self, portal: PortalClient | None = None):
        self._portal = portal

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = [SessionStarted()]
        metadata = tracker.get_slot("session_started_metadata") or {}
        token = metadata.get("session_token") if isinstance(metadata, dict) else None
        if token:
            portal = self._portal or default_client()
            try:
                await portal.verify_session_token(
                    conversation_id=conversation_of(tracker), token=str(token)
                )
                profile = await portal.me(conversation_id=conversation_of(tracker))
            except (PortalRejected, PortalUnavailable):
                pass
            else:
                events.append(SlotSet("verified", True))
                unpaid_alert(dispatcher, profile)
        events.append(ActionExecuted("action_listen"))
        return events
