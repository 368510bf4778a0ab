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
  (``utter_value_corrected``), unless its validator already said something about it;
- a correction that names no value ("non pardon c'est P-7777" at the next question), which the
  question asked cannot take, corrects the previous answer instead, when that one can take it;
- the values of the message that opened the topic ("je veux payer 120 euros"), which the
  verification code's form came between, still fill the form when it starts.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.slot_rules import (
    is_correction,
    looks_like_value,
    only_filler,
    without_lead_in,
    without_spans,
)

CORRECTED_RESPONSE = "utter_value_corrected"
#: The action that asks for verification before a topic; the message before it opened the topic.
VERIFICATION_CHECK = "action_check_verification"


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


def opening_entities(tracker: Tracker) -> list[dict[str, Any]]:
    """The entities of the message that opened the topic the verification came before."""
    before_check: list[dict[str, Any]] = []
    for index, event in enumerate(tracker.events):
        if event.get("event") == "action" and event.get("name") == VERIFICATION_CHECK:
            before_check = tracker.events[:index]
    for event in reversed(before_check):
        if event.get("event") == "user":
            return list((event.get("parse_data") or {}).get("entities") or [])
    return []


def last_answered_slot(tracker: Tracker, slots: list[str], requested: str | None) -> str | None:
    """The slot of ``slots`` (not ``requested``) that an earlier message of the form filled last."""
    for event in reversed(tracker.events[: _latest_user_index(tracker.events)]):
        if event.get("event") == "active_loop" and event.get("name") is None:
            break
        name = event.get("name")
        answered = event.get("event") == "slot" and event.get("value") is not None
        if answered and name in slots and name != requested:
            return name
    return None


def maps_entity(domain: DomainDict, slot: str, entity: Any, form: str) -> bool:
    """Does ``slot`` take the ``entity`` while ``form`` is active?"""
    return any(
        mapping.get("type") == "from_entity"
        and mapping.get("entity") == entity
        and (
            not mapping.get("conditions")
            or any(c.get("active_loop") in (None, form) for c in mapping["conditions"])
        )
        for mapping in _mappings(domain, slot)
    )


def form_slots(domain: DomainDict, form: str) -> list[str]:
    """The slots ``form`` asks for, in order."""
    return list(domain.get("forms", {}).get(form, {}).get("required_slots", []))


def entity_values(entities: list[dict[str, Any]], domain: DomainDict, form: str) -> dict[str, Any]:
    """The values ``entities`` give the slots of ``form`` (the first entity for each slot)."""
    values: dict[str, Any] = {}
    for entity in entities:
        for slot in form_slots(domain, form):
            if slot not in values and maps_entity(domain, slot, entity.get("entity"), form):
                values[slot] = entity.get("value")
    return values


def _found(text: str, value: Any) -> list[dict[str, int]]:
    """Where a value extracted without an entity (a named surname) stands in ``text``."""
    start = text.lower().find(str(value).lower()) if isinstance(value, str) and value else -1
    return [{"start": start, "end": start + len(value)}] if start >= 0 else []


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
        requested = tracker.get_slot(REQUESTED_SLOT)
        slots, refusal = dict(answers), slice(0, 0)
        for slot, value in answers.items():
            if value is None:
                continue
            spoken = len(dispatcher.messages)
            output = await self._validated(slot, value, correcting, dispatcher, tracker, domain)
            slots.update(output)
            if slot == requested:
                refusal = slice(spoken, len(dispatcher.messages))
        if correcting and answers.get(requested) is not None and slots.get(requested) is None:
            corrected = await self._previous_answer_corrected(wanted, requested, tracker, domain)
            if corrected is not None:
                output, said = corrected
                del dispatcher.messages[refusal]
                dispatcher.messages.extend(said)
                slots.update(output)
        return [SlotSet(slot, value) for slot, value in slots.items()]

    async def _validated(
        self,
        slot: str,
        value: Any,
        correcting: bool,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """``slot``'s validator on ``value``; a replaced earlier value is acknowledged."""
        method = getattr(self, f"validate_{slot}", None)
        if method is None:
            return {slot: value}
        before, spoken = value_before_message(tracker, slot), len(dispatcher.messages)
        output = await method(value, dispatcher, tracker, domain)
        tracker.slots.update(output)
        replaced = correcting and before is not None and output.get(slot) not in (None, before)
        if replaced and len(dispatcher.messages) == spoken:
            dispatcher.utter_message(response=CORRECTED_RESPONSE)
        return output

    async def _previous_answer_corrected(
        self, wanted: list[str], requested: str, tracker: Tracker, domain: DomainDict
    ) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """A correction that the question asked refused ("non pardon c'est P-7777" at the
        date): the previous answer takes it when it can (its new value, what was said, the
        question asked again); ``None`` when it cannot, and the refusal stands."""
        text = tracker.latest_message.get("text") or ""
        previous = last_answered_slot(tracker, wanted, requested)
        value = without_lead_in(text)
        if previous is None or _is_yes_no(domain, previous):
            return None
        if not (is_correction(text) and looks_like_value(value)):
            return None
        saved, trial = dict(tracker.slots), CollectingDispatcher()
        output = await self._validated(previous, value, True, trial, tracker, domain)
        if output.get(previous) in (None, saved.get(previous)):
            tracker.slots.clear()
            tracker.slots.update(saved)
            return None
        return {**output, requested: None}, trial.messages

    def answers(
        self, candidates: dict[str, Any], tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The candidates that really are answers of the latest message (see the module)."""
        if answered_another_form(tracker, domain, self.form_name()):
            answers = _without_values_of_the_message(candidates, tracker, domain)
            return {**answers, **self.opening_values(answers, tracker, domain)}
        return _pending_answer_apart(candidates, tracker, domain)

    def opening_values(
        self, answers: dict[str, Any], tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Values of the message that opened the topic ("je veux payer 120 euros") for the
        slots of this form that take them and have none yet."""
        values = entity_values(opening_entities(tracker), domain, self.form_name())
        return {
            slot: value
            for slot, value in values.items()
            if answers.get(slot) is None and tracker.get_slot(slot) is None
        }


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
    """When the message gave other slots (entities, a named surname), the pending question is
    answered only by what is left of it; a yes/no question is not answered at all (it comes
    again)."""
    answers = dict(candidates)
    requested = tracker.get_slot(REQUESTED_SLOT)
    text = tracker.latest_message.get("text") or ""
    given = [
        span
        for slot, value in candidates.items()
        if slot != requested and value is not None
        for span in entities_giving(tracker, domain, slot, value) or _found(text, value)
    ]
    if not given or answers.get(requested) is None:
        return answers
    if _is_yes_no(domain, requested):
        answers[requested] = None
    elif answers[requested] == text and not entities_giving(tracker, domain, requested, text):
        rest = without_spans(text, given)
        answers[requested] = None if only_filler(rest) else rest
    return answers
