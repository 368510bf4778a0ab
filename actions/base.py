"""Shared plumbing of the actions that call the portal: the client seam and error replies."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.portal_client import (
    PortalClient,
    PortalRejected,
    PortalUnavailable,
    TooManyAttempts,
    default_client,
)

#: Portal error fields that have their own explanation in domain.yml.
FIELD_RESPONSES = {
    "client_number": "utter_invalid_client_number",
    "surname": "utter_invalid_surname",
    "email": "utter_invalid_email",
}


class PortalAction(Action, ABC):
    """An action whose work is one portal call; subclasses implement ``call``.

    Failures become French responses by name: too many attempts, invalid field, portal down.
    Nothing about the tenant's identity is ever inferred from a failure.
    """

    def __init__(self, portal: PortalClient | None = None):
        self._portal = portal

    @property
    def portal(self) -> PortalClient:
        return self._portal or default_client()

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
        except TooManyAttempts:
            dispatcher.utter_message(response="utter_too_many_attempts")
        except PortalRejected as rejected:
            dispatcher.utter_message(
                response=FIELD_RESPONSES.get(rejected.field or "", "utter_request_failed")
            )
        except PortalUnavailable:
            dispatcher.utter_message(response="utter_service_unavailable")
        return self.after_failure()
