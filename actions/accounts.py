"""Submitting the account forms to the portal: registration, identifier, password, activation.

Every outcome gets the same reply whatever the portal found, so the chat never reveals whether a
client number, a surname or an email exists; the real outcome goes by email.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import PortalAction
from actions.identity import conversation_of

IDENTITY_SLOTS = ("client_number", "surname", "email", "input_failures", "verification_code")


def clear_identity_slots() -> list[dict[str, Any]]:
    """Forget what was typed once it reached the portal, so the next flow asks afresh."""
    return [SlotSet(slot, None) for slot in IDENTITY_SLOTS]


class IdentityFormSubmit(PortalAction):
    def after_failure(self) -> list[dict[str, Any]]:
        return clear_identity_slots()


class ActionSubmitRegistration(IdentityFormSubmit):
    def name(self) -> str:
        return "action_submit_registration"

    async def call(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        email = tracker.get_slot("email")
        await self.portal.register(
            conversation_id=conversation_of(tracker),
            client_number=tracker.get_slot("client_number"),
            surname=tracker.get_slot("surname"),
            email=email,
        )
        dispatcher.utter_message(response="utter_registration_submitted", email=email)
        return clear_identity_slots()


class ActionSubmitIdentifierReminder(IdentityFormSubmit):
    def name(self) -> str:
        return "action_submit_identifier_reminder"

    async def call(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        await self.portal.remind_identifier(
            conversation_id=conversation_of(tracker),
            client_number=tracker.get_slot("client_number"),
            surname=tracker.get_slot("surname"),
        )
        dispatcher.utter_message(response="utter_identifier_reminder_sent")
        return clear_identity_slots()


class ActionSubmitPasswordReset(IdentityFormSubmit):
    def name(self) -> str:
        return "action_submit_password_reset"

    async def call(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        email = tracker.get_slot("email")
        await self.portal.request_password_reset(
            conversation_id=conversation_of(tracker), email=email
        )
        dispatcher.utter_message(response="utter_password_reset_sent", email=email)
        return clear_identity_slots()


class ActionSubmitActivationResend(IdentityFormSubmit):
    def name(self) -> str:
        return "action_submit_activation_resend"

    async def call(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        email = tracker.get_slot("email")
        await self.portal.resend_activation(conversation_id=conversation_of(tracker), email=email)
        dispatcher.utter_message(response="utter_activation_resent", email=email)
        return clear_identity_slots()


class ActionForgetIdentity(Action):
    """Drop half-typed identity details when a form is cancelled."""

    def name(self) -> str:
        return "action_forget_identity"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        return clear_identity_slots()
