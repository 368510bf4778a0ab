"""Account changes for a verified conversation: new identifier (confirmed by a link sent to the
new address), new password (a link, never typed in the chat), unsubscribing (confirmed)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import PortalAction, VerifiedFormValidation
from actions.identity import conversation_of
from actions.portal_client import PASSED_ON, PortalRejected
from actions.slot_rules import email_from

IDENTIFIER_PROBLEMS = {
    "same_email": "utter_same_identifier",
    "invalid_email": "utter_invalid_email",
}


class ActionPrepareIdentifierChange(PortalAction):
    def name(self) -> str:
        return "action_prepare_identifier_change"

    async def call(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        return [SlotSet("new_email", None)]


class ValidateChangeIdentifierForm(VerifiedFormValidation):
    def name(self) -> str:
        return "validate_change_identifier_form"

    async def validate_new_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        email = email_from(str(value) if value is not None else None)
        if email is None:
            dispatcher.utter_message(response="utter_invalid_email")
            return {"new_email": None}
        return {"new_email": email}


class ActionSubmitIdentifierChange(PortalAction):
    """The portal emails a confirmation link to the new address; nothing changes before."""

    def name(self) -> str:
        return "action_submit_identifier_change"

    async def call(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        email = tracker.get_slot("new_email")
        if tracker.get_slot("verified") is False or not email:
            dispatcher.utter_message(response="utter_verification_expired")
            return [SlotSet("new_email", None)]
        try:
            sent = await self.portal.request_identifier_change(
                conversation_id=conversation_of(tracker), new_email=email
            )
        except PortalRejected as refused:
            if refused.status in PASSED_ON:
                raise
            dispatcher.utter_message(
                response=IDENTIFIER_PROBLEMS.get(refused.code, "utter_request_failed")
            )
            return [SlotSet("new_email", None)]
        dispatcher.utter_message(
            response="utter_identifier_change_sent", email=sent.get("sent_to_masked", email)
        )
        return [SlotSet("new_email", None)]

    def after_failure(self) -> list[dict[str, Any]]:
        return [SlotSet("new_email", None)]


class ActionRequestPasswordChange(PortalAction):
    """A link to choose a new password, sent to the account's address."""

    def name(self) -> str:
        return "action_request_password_change"

    async def call(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        sent = await self.portal.request_password_change(conversation_id=conversation_of(tracker))
        dispatcher.utter_message(
            response="utter_password_change_sent", email=sent.get("sent_to_masked", "")
        )
        return []


class ActionPrepareUnsubscribe(PortalAction):
    def name(self) -> str:
        return "action_prepare_unsubscribe"

    async def call(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        return [SlotSet("unsubscribe_confirmed", None)]


class ActionUnsubscribe(PortalAction):
    """Close the account once confirmed; the conversation is no longer verified afterwards."""

    def name(self) -> str:
        return "action_unsubscribe"

    async def call(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        reset = [SlotSet("unsubscribe_confirmed", None)]
        if not tracker.get_slot("unsubscribe_confirmed"):
            dispatcher.utter_message(response="utter_unsubscribe_cancelled")
            return reset
        await self.portal.unsubscribe(conversation_id=conversation_of(tracker))
        dispatcher.utter_message(response="utter_unsubscribed")
        return [*reset, SlotSet("verified", False)]

    def after_failure(self) -> list[dict[str, Any]]:
        return [SlotSet("unsubscribe_confirmed", None)]
