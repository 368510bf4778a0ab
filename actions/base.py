"""Shared plumbing of the actions that call the portal: the client seam and error replies."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.form_base import TenantFormValidation
from actions.portal_client import (
    PASSED_ON,
    NotVerified,
    PortalClient,
    PortalRejected,
    PortalUnavailable,
    TooManyAttempts,
    default_client,
)
from bot.dialogue.default_texts import UNAVAILABLE_RESPONSE

#: Portal error fields that have their own explanation in domain.yml.
FIELD_RESPONSES = {
    "client_number": "utter_invalid_client_number",
    "surname": "utter_invalid_surname",
    "email": "utter_invalid_email",
}


class UsesPortal:
    """The portal client seam: tests hand a client in, the action server uses the default one."""

    def __init__(self, portal: PortalClient | None = None):
        self._portal = portal

    @property
    def portal(self) -> PortalClient:
        return self._portal or default_client()


class PortalAction(UsesPortal, Action, ABC):
    """An action whose work is one portal call; subclasses implement ``call``.

    Failures become French responses by name: too many attempts, invalid field, portal down.
    Nothing about the tenant's identity is ever inferred from a failure.
    """

    @abstractmethod
    async def call(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Do the portal call and reply; portal errors are handled by ``run``."""

    def after_failure(self) -> list[dict[str, Any]]:
        """Events to return when the call failed (default: none)."""
        return []

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        try:
            return await self.call(dispatcher, tracker, domain)
        except NotVerified:
            dispatcher.utter_message(response="utter_verification_expired")
            return [*self.after_failure(), SlotSet("verified", False)]
        except TooManyAttempts:
            dispatcher.utter_message(response="utter_too_many_attempts")
        except PortalRejected as rejected:
            dispatcher.utter_message(
                response=FIELD_RESPONSES.get(rejected.field or "", "utter_request_failed")
            )
        except PortalUnavailable:
            dispatcher.utter_message(response=UNAVAILABLE_RESPONSE)
        return self.after_failure()


class VerifiedFormValidation(UsesPortal, TenantFormValidation, ABC):
    """Validation of a form that works on a verified account.

    When the portal says the verification has expired, the form ends at once (no slot is left
    to ask) and its submit action, finding ``verified`` false, says so.
    """

    @abstractmethod
    def name(self) -> str:
        """``validate_<form name>``."""

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if tracker.get_slot("verified") is False:
            return []
        return domain_slots

    async def guarded(
        self, slot: str, dispatcher: CollectingDispatcher, check: Awaitable[dict[str, Any]]
    ) -> dict[str, Any]:
        """Run a portal check for ``slot``; portal failures leave the slot empty, explained."""
        try:
            return await check
        except NotVerified:
            return {slot: None, "verified": False}
        except TooManyAttempts:
            dispatcher.utter_message(response="utter_too_many_attempts")
        except PortalUnavailable:
            dispatcher.utter_message(response=UNAVAILABLE_RESPONSE)
        return {slot: None}


class ConfirmedFormSubmit(PortalAction, ABC):
    """The last step of a form that ends with "je valide ?": send it only when confirmed and
    still verified, explain a refusal by its code, and clear the form's slots in every case."""

    #: Every slot of the form, cleared once it is submitted, cancelled or refused.
    form_slots: tuple[str, ...] = ()
    #: The yes/no slot of the final question.
    confirmation_slot: str = ""
    cancelled_response: str = "utter_cancelled"
    #: The portal's refusal codes and the response explaining each.
    problems: dict[str, str] = {}

    @abstractmethod
    async def submit(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        """Send the form to the portal and say it is done (``PortalRejected`` if refused)."""

    async def call(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if tracker.get_slot("verified") is False:
            dispatcher.utter_message(response="utter_verification_expired")
        elif not tracker.get_slot(self.confirmation_slot):
            dispatcher.utter_message(response=self.cancelled_response)
        else:
            try:
                await self.submit(dispatcher, tracker)
            except PortalRejected as refused:
                if refused.status in PASSED_ON:
                    raise
                dispatcher.utter_message(
                    response=self.problems.get(refused.code, "utter_request_failed")
                )
        return self.after_failure()

    def after_failure(self) -> list[dict[str, Any]]:
        return [SlotSet(slot, None) for slot in self.form_slots]
