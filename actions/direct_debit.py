"""Direct debit of the rent from the chat: IBAN, bank, contact details, debit day, RIB, confirm.

The IBAN goes to the portal in the very turn it is typed (the tracker store masks it at once);
the chat keeps only its masked form. The portal records the request and emails the SEPA
mandate to sign and return.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import ConfirmedFormSubmit, PortalAction, VerifiedFormValidation
from actions.identity import conversation_of
from actions.portal_client import PASSED_ON, PortalClient, PortalClientError, PortalRejected
from actions.uploads import UPLOAD_SLOT, ask_for_file, file_arrived
from actions.wording import response_text

FORM_SLOTS = (
    "iban",
    "iban_masked",
    "bank_name",
    "bank_name_proposed",
    "contact_confirmed",
    "debit_address",
    "debit_day",
    "rib_received",
    "direct_debit_confirmed",
    UPLOAD_SLOT,
)
RIB_PURPOSE = "rib"
RIB_KINDS = ["pdf", "image"]
#: The portal's IBAN refusal codes, and how each is explained.
IBAN_PROBLEMS = {
    "invalid_iban_country": "utter_iban_country",
    "invalid_iban_length": "utter_iban_length",
    "invalid_iban_checksum": "utter_iban_checksum",
    "iban_not_sepa": "utter_iban_not_sepa",
}
#: Why the portal refused the request, and what the tenant is told.
REQUEST_PROBLEMS = {
    "iban_missing": "utter_iban_forgotten",
    "direct_debit_pending": "utter_direct_debit_pending",
    "rib_not_received": "utter_rib_not_received",
    "invalid_address": "utter_invalid_debit_address",
    "invalid_holder_name": "utter_request_failed",
}
_DAY_WORDS = {"deux": 2, "sept": 7, "dix": 10}

log = logging.getLogger(__name__)


def typed_day(text: str) -> int | None:
    """The day of the month in "7", "le 7", "le sept", "10 du mois"; None when there is none."""
    digits = re.findall(r"\d+", text)
    if len(digits) == 1:
        return int(digits[0])
    words = [_DAY_WORDS[w] for w in re.findall(r"[a-z]+", text.lower()) if w in _DAY_WORDS]
    return words[0] if len(words) == 1 and not digits else None


def _address(tracker: Tracker, profile: dict[str, Any]) -> str:
    return tracker.get_slot("debit_address") or profile.get("address") or ""


async def forget_iban(portal: PortalClient, tracker: Tracker) -> None:
    """The request was given up: the portal deletes the IBAN it kept and the RIB sent for it.

    Best effort: whatever the portal says, the tenant is told the request is cancelled (an
    IBAN it could not delete now expires with the verification; the daily job deletes it).
    """
    try:
        rib_slot_id = int(tracker.get_slot(UPLOAD_SLOT))
    except (TypeError, ValueError):  # no RIB link yet
        rib_slot_id = None
    try:
        await portal.forget_iban(conversation_id=conversation_of(tracker), rib_slot_id=rib_slot_id)
    except PortalClientError:
        log.warning("IBAN draft of %s not deleted now", tracker.sender_id)


class ActionPrepareDirectDebit(PortalAction):
    """Before the form: a request already waiting for its signed mandate stops here."""

    def name(self) -> str:
        return "action_prepare_direct_debit"

    async def call(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        profile = await self.portal.direct_debit_profile(conversation_id=conversation_of(tracker))
        events = [SlotSet(slot, None) for slot in FORM_SLOTS]
        if profile.get("pending_mandate_reference"):
            dispatcher.utter_message(
                response="utter_direct_debit_pending",
                reference=profile["pending_mandate_reference"],
            )
            return [*events, FollowupAction("action_listen")]
        if profile.get("debit_day"):
            dispatcher.utter_message(
                response="utter_direct_debit_already_active", day=profile["debit_day"]
            )
        dispatcher.utter_message(response="utter_direct_debit_intro")
        if not profile.get("address"):
            events.append(SlotSet("contact_confirmed", False))
        return events


class ActionAskBankName(PortalAction):
    def name(self) -> str:
        return "action_ask_bank_name"

    async def call(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        proposed = tracker.get_slot("bank_name_proposed")
        if proposed:
            dispatcher.utter_message(
                response="utter_ask_bank_name_proposed",
                bank=proposed,
                buttons=[
                    {
                        "title": response_text(
                            "utter_button_bank_confirmed", domain, tracker, bank=proposed
                        ),
                        "payload": "/affirm",
                    }
                ],
            )
        else:
            dispatcher.utter_message(response="utter_ask_bank_name")
        return []


class ActionAskContactConfirmed(PortalAction):
    def name(self) -> str:
        return "action_ask_contact_confirmed"

    async def call(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        profile = await self.portal.direct_debit_profile(conversation_id=conversation_of(tracker))
        dispatcher.utter_message(
            response="utter_ask_contact_confirmed",
            holder=profile.get("holder_name", ""),
            address=profile.get("address", ""),
            email=profile.get("email", ""),
        )
        return []


class ActionAskDebitDay(PortalAction):
    def name(self) -> str:
        return "action_ask_debit_day"

    async def call(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        profile = await self.portal.direct_debit_profile(conversation_id=conversation_of(tracker))
        buttons = [
            {
                "title": response_text("utter_button_debit_day", domain, tracker, day=day),
                "payload": str(day),
            }
            for day in profile.get("debit_days", [])
        ]
        dispatcher.utter_message(response="utter_ask_debit_day", buttons=buttons)
        return []


class ActionAskRibReceived(PortalAction):
    def name(self) -> str:
        return "action_ask_rib_received"

    async def call(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        return await ask_for_file(
            self.portal,
            dispatcher,
            tracker,
            domain,
            purpose=RIB_PURPOSE,
            kinds=RIB_KINDS,
            response="utter_ask_rib_received",
        )


class ActionAskDirectDebitConfirmed(PortalAction):
    def name(self) -> str:
        return "action_ask_direct_debit_confirmed"

    async def call(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        profile = await self.portal.direct_debit_profile(conversation_id=conversation_of(tracker))
        dispatcher.utter_message(
            response="utter_ask_direct_debit_confirmed",
            iban=tracker.get_slot("iban_masked"),
            bank=tracker.get_slot("bank_name"),
            day=tracker.get_slot("debit_day"),
            holder=profile.get("holder_name", ""),
            address=_address(tracker, profile),
        )
        return []


class ValidateDirectDebitForm(VerifiedFormValidation):
    def name(self) -> str:
        return "validate_direct_debit_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """The postal address is asked only when the prefilled one was not confirmed."""
        slots = await super().required_slots(domain_slots, dispatcher, tracker, domain)
        if tracker.get_slot("contact_confirmed") is not False:
            return [slot for slot in slots if slot != "debit_address"]
        return slots

    async def validate_iban(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        async def remember() -> dict[str, Any]:
            try:
                kept = await self.portal.remember_iban(
                    conversation_id=conversation_of(tracker), iban=str(value or "")
                )
            except PortalRejected as refused:
                if refused.status in PASSED_ON:
                    raise
                dispatcher.utter_message(
                    response=IBAN_PROBLEMS.get(refused.code, "utter_invalid_iban")
                )
                return {"iban": None}
            dispatcher.utter_message(response="utter_iban_accepted", iban=kept["iban_masked"])
            checked = {
                "iban": kept["iban_masked"],
                "iban_masked": kept["iban_masked"],
                "bank_name_proposed": kept.get("bank_name"),
            }
            # A corrected IBAN of another bank: the bank given for the first one is asked again.
            if tracker.get_slot("bank_name") not in (None, kept.get("bank_name")):
                checked["bank_name"] = None
            return checked

        return await self.guarded("iban", dispatcher, remember())

    async def validate_bank_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        proposed = tracker.get_slot("bank_name_proposed")
        intent = tracker.get_intent_of_latest_message()
        if proposed and intent == "affirm":
            return {"bank_name": proposed}
        if intent == "deny":  # not that bank: ask for its name
            return {"bank_name": None, "bank_name_proposed": None}
        typed = " ".join(str(value or "").split())
        if not 2 <= len(typed) <= 120 or not any(ch.isalpha() for ch in typed):
            dispatcher.utter_message(response="utter_invalid_bank_name")
            return {"bank_name": None}
        return {"bank_name": typed}

    async def validate_debit_address(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        typed = " ".join(str(value or "").split())
        if not 8 <= len(typed) <= 300 or not any(ch.isdigit() for ch in typed):
            dispatcher.utter_message(response="utter_invalid_debit_address")
            return {"debit_address": None}
        return {"debit_address": typed}

    async def validate_debit_day(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        day = typed_day(str(value or ""))

        async def check() -> dict[str, Any]:
            profile = await self.portal.direct_debit_profile(
                conversation_id=conversation_of(tracker)
            )
            if day not in profile.get("debit_days", []):
                dispatcher.utter_message(response="utter_invalid_debit_day")
                return {"debit_day": None}
            return {"debit_day": str(day)}

        return await self.guarded("debit_day", dispatcher, check())

    async def validate_rib_received(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return await self.guarded(
            "rib_received",
            dispatcher,
            file_arrived(self.portal, dispatcher, tracker, slot="rib_received"),
        )


class ActionCancelDirectDebit(PortalAction):
    """The tenant says "annuler" during the form: nothing of the request is kept, in the chat
    or in the portal."""

    def name(self) -> str:
        return "action_cancel_direct_debit"

    async def call(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        await forget_iban(self.portal, tracker)
        dispatcher.utter_message(response="utter_direct_debit_cancelled")
        return [SlotSet(slot, None) for slot in FORM_SLOTS]


class ActionSubmitDirectDebit(ConfirmedFormSubmit):
    """Record the request; the portal emails the prefilled SEPA mandate. Not confirmed or
    refused, the request is given up: the portal forgets its IBAN and RIB."""

    form_slots = FORM_SLOTS
    confirmation_slot = "direct_debit_confirmed"
    cancelled_response = "utter_direct_debit_cancelled"
    problems = REQUEST_PROBLEMS

    def name(self) -> str:
        return "action_submit_direct_debit"

    async def call(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        confirmed = tracker.get_slot("verified") is not False and tracker.get_slot(
            self.confirmation_slot
        )
        events = await super().call(dispatcher, tracker, domain)
        if not confirmed:
            await forget_iban(self.portal, tracker)
        return events

    async def submit(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        profile = await self.portal.direct_debit_profile(conversation_id=conversation_of(tracker))
        try:
            created = await self.portal.create_direct_debit(
                conversation_id=conversation_of(tracker),
                bank_name=tracker.get_slot("bank_name") or "",
                debit_day=int(tracker.get_slot("debit_day")),
                holder_name=profile.get("holder_name", ""),
                address=_address(tracker, profile),
                rib_slot_id=int(tracker.get_slot(UPLOAD_SLOT)),
            )
        except PortalRejected as refused:
            if refused.status not in PASSED_ON:  # the form's slots are cleared: start again
                await forget_iban(self.portal, tracker)
            raise
        dispatcher.utter_message(
            response="utter_direct_debit_requested",
            email=created["email"],
            reference=created["mandate_reference"],
            day=created["debit_day"],
        )
