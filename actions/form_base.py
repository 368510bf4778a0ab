"""What counts as the tenant's answer in a form: the validation every form shares.

Rasa's ``FormAction`` hands its validator every slot set since the tenant's last message, not
only what that message gave. When a form starts in the middle of a turn (after the verification
code, ``action_resume_topic`` → ``action_prepare_*`` → the form), that includes the
``SlotSet(slot, None)`` with which the prepare action cleared the form, so the validators used to
judge ``None`` and said "Je n'ai pas compris ce montant" to a tenant who had only typed the
code. And the values Rasa extracts when the form starts come from the code message, which
answered the verification form, not this one. Here, for every form:

- a slot set to ``None`` is not an answer: it is passed on, never validated;
- values taken from a message that answered another form (the code) are dropped;
- when a message gives values for other slots of the form ("non pardon c'est 87654321",
  "Dupont, client 87654321"), the question asked is answered only by what is left once those
  values and the lead-ins are removed, and a yes/no question (a summary) is not answered at all:
  it is asked again, showing the new values;
- a value that replaces one given earlier in the form is acknowledged
  (``utter_value_corrected``), unless its validator already said something about it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.slot_rules import only_filler, without_spans

CORRECTED_RESPONSE = "utter_value_corrected"


def _mappings(domain: DomainDict, slot: str) -> list[dict[str, Any]]:
    return list(domain.get("slots", {}).get(slot, {}).get("mappings", []))


def _latest_user_index(events: list[dict[str, Any]]) -> int:
    return max((i for i, e in enumerate(events) if e.get("event") == "user"), default=-1)


def value_before_message(tracker: Tracker, slot: str) -> Any:
    """The value ``slot`` had when the tenant's latest message arrived."""
    events = tracker.events[: _latest_user_index(tracker.events)]
    for event in reversed(events):
        if event.get("event") == "slot" and event.get("name") == slot:
            return event.get("value")
        if event.get("event") in ("restart", "session_started"):
            break
    return None


def was_asking(tracker: Tracker, form: str) -> bool:
    """Was ``form`` already asking its questions when the tenant's latest message arrived?"""
    for event in reversed(tracker.events[: _latest_user_index(tracker.events)]):
        if event.get("event") == "active_loop":
            return event.get("name") == form
    return False


def answered_another_form(tracker: Tracker, domain: DomainDict, form: str) -> bool:
    """Did another form take the tenant's latest message (the code of ``verify_form``)?"""
    forms = set(domain.get("forms", {})) - {form}
    events = tracker.events[_latest_user_index(tracker.events) + 1 :]
    return any(e.get("event") == "action" and e.get("name") in forms for e in events)


def entities_giving(tracker: Tracker, domain: DomainDict, slot: str, value: Any) -> list[dict]:
    """The entities of the latest message that gave ``slot`` its ``value``."""
    names = {m.get("entity") for m in _mappings(domain, slot) if m.get("type") == "from_entity"}
    return [
        entity
        for entity in tracker.latest_message.get("entities") or []
        if entity.get("entity") in names and entity.get("value") == value
    ]


def _is_yes_no(domain: DomainDict, slot: str) -> bool:
    mappings = _mappings(domain, slot)
    return bool(mappings) and all(m.get("type") == "from_intent" for m in mappings)


class TenantFormValidation(FormValidationAction, ABC):
    """A form validator that judges only what the tenant's message actually answered."""

    @abstractmethod
    def name(self) -> str:
        """``validate_<form name>``, given by each form's validator."""

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        wanted = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        candidates = {
            slot: value for slot, value in tracker.slots_to_validate().items() if slot in wanted
        }
        answers = self.answers(candidates, tracker, domain)
        correcting = was_asking(tracker, self.form_name())
        slots = dict(answers)
        for slot, value in answers.items():
            method = getattr(self, f"validate_{slot}", None)
            if value is None or method is None:
                continue
            before, spoken = value_before_message(tracker, slot), len(dispatcher.messages)
            output = await method(value, dispatcher, tracker, domain)
            slots.update(output)
            tracker.slots.update(output)
            replaced = correcting and before is not None and output.get(slot) not in (None, before)
            if replaced and len(dispatcher.messages) == spoken:
                dispatcher.utter_message(response=CORRECTED_RESPONSE)
        return [SlotSet(slot, value) for slot, value in slots.items()]

    def answers(
        self, candidates: dict[str, Any], tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The candidates that really are answers of the latest message (see the module)."""
        if answered_another_form(tracker, domain, self.form_name()):
            return _without_values_of_the_message(candidates, tracker, domain)
        return _pending_answer_apart(candidates, tracker, domain)


def _without_values_of_the_message(
    candidates: dict[str, Any], tracker: Tracker, domain: DomainDict
) -> dict[str, Any]:
    """The candidates, less what was taken from the latest message (it answered another form)."""
    text = tracker.latest_message.get("text") or ""
    return {
        slot: None
        if value is not None and (value == text or entities_giving(tracker, domain, slot, value))
        else value
        for slot, value in candidates.items()
    }


def _pending_answer_apart(
    candidates: dict[str, Any], tracker: Tracker, domain: DomainDict
) -> dict[str, Any]:
    """When the message gave other slots through entities, the pending question is answered
    only by what is left of it; a yes/no question is not answered at all (it comes again)."""
    answers = dict(candidates)
    requested = tracker.get_slot(REQUESTED_SLOT)
    given = [
        entity
        for slot, value in candidates.items()
        if slot != requested and value is not None
        for entity in entities_giving(tracker, domain, slot, value)
    ]
    if not given or answers.get(requested) is None:
        return answers
    text = tracker.latest_message.get("text") or ""
    if _is_yes_no(domain, requested):
        answers[requested] = None
    elif answers[requested] == text and not entities_giving(tracker, domain, requested, text):
        rest = without_spans(text, given)
        answers[requested] = None if only_filler(rest) else rest
    return answers
