"""Validation of the account forms' slots as the tenant answers (one validator per form)."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.form_base import TenantFormValidation, answered_another_form
from actions.slot_rules import (
    client_number_from,
    email_from,
    named_surname,
    surname_from,
    surname_in,
    without_spans,
)

#: Entities whose presence shows a message gives data, so that the rest may hold the surname.
DATA_ENTITIES = ("client_number", "email")

#: After this many invalid answers in a row the bot offers a person (and again every time after).
FAILURES_BEFORE_HANDOFF_OFFER = 3


def _failed(
    slot: str, response: str, dispatcher: CollectingDispatcher, tracker: Tracker
) -> dict[str, Any]:
    failures = int(tracker.get_slot("input_failures") or 0) + 1
    dispatcher.utter_message(response=response)
    if failures >= FAILURES_BEFORE_HANDOFF_OFFER:
        dispatcher.utter_message(response="utter_offer_handoff")
    return {slot: None, "input_failures": failures}


def _text(value: Any) -> str | None:
    return str(value) if value is not None else None


def _checked(
    slot: str,
    found: str | None,
    response: str,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
) -> dict[str, Any]:
    """``found`` for ``slot`` (the failures count starts again), or, if ``None``, ``_failed``."""
    if found is None:
        return _failed(slot, response, dispatcher, tracker)
    return {slot: found, "input_failures": 0}


class AccountSlotValidation(TenantFormValidation):
    """Validators shared by every form that asks for a client number, a surname or an email."""

    @abstractmethod
    def name(self) -> str:
        """``validate_<form name>``, given by each subclass."""

    async def extract_surname(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The surname in a message that gives other values too, when the surname is not the
        question asked: the opening "je veux m'inscrire : 12345678, Martin, martin@example.org",
        or "87654321, Dupont" to the client-number question. (Asked, it is the text itself.)"""
        if tracker.get_slot(REQUESTED_SLOT) == "surname" or answered_another_form(
            tracker, domain, self.form_name()
        ):
            return {}
        message = tracker.latest_message
        named = named_surname(message.get("text"))
        if named:  # "non pardon, le nom c'est Lefebvre", whatever the question
            return {"surname": named}
        data = [e for e in message.get("entities") or [] if e.get("entity") in DATA_ENTITIES]
        if not data:
            return {}
        surname = surname_in(without_spans(message.get("text") or "", data))
        return {"surname": surname} if surname else {}

    async def validate_client_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        number = client_number_from(_text(value))
        return _checked("client_number", number, "utter_invalid_client_number", dispatcher, tracker)

    async def validate_surname(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        surname = surname_from(_text(value))
        return _checked("surname", surname, "utter_invalid_surname", dispatcher, tracker)

    async def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        email = email_from(_text(value))
        return _checked("email", email, "utter_invalid_email", dispatcher, tracker)


class ValidateRegisterForm(AccountSlotValidation):
    def name(self) -> str:
        return "validate_register_form"


class ValidateForgotIdentifierForm(AccountSlotValidation):
    def name(self) -> str:
        return "validate_forgot_identifier_form"


class ValidateForgotPasswordForm(AccountSlotValidation):
    def name(self) -> str:
        return "validate_forgot_password_form"


class ValidateActivationResendForm(AccountSlotValidation):
    def name(self) -> str:
        return "validate_activation_resend_form"
