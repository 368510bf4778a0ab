"""Values typed with no request, and corrections after a request without summary was sent.

A form without a summary sends its request on the last answer, so "non pardon c'est 87654321"
right after "Si ces informations correspondent, vous allez recevoir un e-mail" comes too late to
change what was sent. Here it is not lost: when the message's values (``inform``) belong to the
request sent in the bot's last turn, that request is sent again with the corrected value, after
the form's own validation. Anything else with values and no request gets the likely topics.

Only forms without a yes/no question qualify: a form with a summary (payment, direct debit,
insurance, unsubscription) is corrected at its summary, and must never be sent again unasked.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.account_changes import ActionSubmitIdentifierChange, ValidateChangeIdentifierForm
from actions.account_forms import (
    ValidateActivationResendForm,
    ValidateForgotIdentifierForm,
    ValidateForgotPasswordForm,
    ValidateRegisterForm,
)
from actions.accounts import (
    ActionSubmitActivationResend,
    ActionSubmitIdentifierReminder,
    ActionSubmitPasswordReset,
    ActionSubmitRegistration,
)
from actions.base import PortalAction
from actions.form_base import (
    CORRECTED_RESPONSE,
    TenantFormValidation,
    entity_values,
    form_slots,
)
from actions.handoff import ActionSuggestTopics
from actions.portal_client import PortalClient

#: Forms sent on their last answer: their validator and their submit action.
SENT_WITHOUT_SUMMARY: dict[str, tuple[type[TenantFormValidation], type[PortalAction]]] = {
    "register_form": (ValidateRegisterForm, ActionSubmitRegistration),
    "forgot_identifier_form": (ValidateForgotIdentifierForm, ActionSubmitIdentifierReminder),
    "forgot_password_form": (ValidateForgotPasswordForm, ActionSubmitPasswordReset),
    "activation_resend_form": (ValidateActivationResendForm, ActionSubmitActivationResend),
    "change_identifier_form": (ValidateChangeIdentifierForm, ActionSubmitIdentifierChange),
}


def _user_indexes(events: list[dict[str, Any]]) -> list[int]:
    return [i for i, e in enumerate(events) if e.get("event") == "user"]


def form_sent_last_turn(tracker: Tracker) -> str | None:
    """The form of ``SENT_WITHOUT_SUMMARY`` whose request the bot's last turn sent."""
    users = _user_indexes(tracker.events)
    if len(users) < 2:
        return None
    last_turn = tracker.events[users[-2] + 1 : users[-1]]
    done = {e.get("name") for e in last_turn if e.get("event") == "action"}
    for form, (_, submit) in SENT_WITHOUT_SUMMARY.items():
        if submit().name() in done:
            return form
    return None


def values_sent(tracker: Tracker, form: str, slots: list[str]) -> dict[str, Any]:
    """What the form had gathered when it was sent (the submit action cleared it since)."""
    values: dict[str, Any] = {}
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop" and event.get("name") == form:
            break
        name, value = event.get("name"), event.get("value")
        if event.get("event") == "slot" and name in slots and value is not None:
            values.setdefault(name, value)
    return values


class ActionTakeValues(Action):
    """Values with no request: a correction of the request just sent, or the likely topics."""

    def __init__(self, portal: PortalClient | None = None):
        self._portal = portal

    def name(self) -> str:
        return "action_take_values"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        form = form_sent_last_turn(tracker)
        corrected = await self._corrected(form, dispatcher, tracker, domain) if form else None
        if corrected is None:
            return await ActionSuggestTopics(self._portal).run(dispatcher, tracker, domain)
        _, submit = SENT_WITHOUT_SUMMARY[form]
        tracker.slots.update(corrected)
        dispatcher.utter_message(response=CORRECTED_RESPONSE)
        events = await submit(self._portal).run(dispatcher, tracker, domain)
        dispatcher.utter_message(response="utter_anything_else")
        return events

    async def _corrected(
        self, form: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any] | None:
        """The form's values with the message's values in place, each validated as the form
        would; ``None`` when the message holds no value of that form or one is refused."""
        slots = form_slots(domain, form)
        new = entity_values(tracker.latest_message.get("entities") or [], domain, form)
        if not new:
            return None
        validator = SENT_WITHOUT_SUMMARY[form][0]()
        values = values_sent(tracker, form, slots)
        for slot, value in new.items():
            validate = getattr(validator, f"validate_{slot}")
            output = await validate(value, dispatcher, tracker, domain)
            if output.get(slot) is None:
                return None
            values[slot] = output[slot]
        return values if all(values.get(slot) is not None for slot in slots) else None
