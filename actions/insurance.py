"""Updating the home insurance from the chat: insurer, policy number, validity date, certificate.

Prefilled from the certificate on file (its insurer and policy number are offered as buttons);
every answer is checked by the portal as it is typed; the submission waits for staff
(``VALIDATION_DELAY_HOURS``).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import ConfirmedFormSubmit, PortalAction, VerifiedFormValidation
from actions.identity import conversation_of
from actions.portal_client import PASSED_ON, PortalRejected
from actions.uploads import UPLOAD_SLOT, ask_for_file, file_arrived
from bot.policy.landlord import VALIDATION_DELAY_HOURS

FORM_SLOTS = (
    "insurer",
    "policy_number",
    "insurance_valid_until",
    "insurance_valid_until_text",
    "certificate_received",
    "insurance_confirmed",
    UPLOAD_SLOT,
)
#: Insurers offered as buttons besides the current one (the others can be typed).
BUTTON_INSURERS = 8
#: The portal's refusal codes for what is typed, and how each is explained.
FIELD_PROBLEMS = {
    "invalid_insurer": "utter_invalid_insurer",
    "invalid_policy_number": "utter_invalid_policy_number",
    "invalid_date": "utter_invalid_insurance_date",
    "date_in_past": "utter_insurance_date_past",
    "date_too_far": "utter_insurance_date_too_far",
}
SUBMIT_PROBLEMS = {
    "submission_pending": "utter_insurance_pending",
    "certificate_not_received": "utter_certificate_not_received",
    "certificate_link_expired": "utter_upload_expired",
    "certificate_not_pdf": "utter_certificate_not_pdf",
    "certificate_already_used": "utter_certificate_not_received",
}


class ActionPrepareInsurance(PortalAction):
    """Before the form: say what is on file; a submission already waiting stops here."""

    def name(self) -> str:
        return "action_prepare_insurance"

    async def call(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        found = await self.portal.insurance(conversation_id=conversation_of(tracker))
        events = [SlotSet(slot, None) for slot in FORM_SLOTS]
        if found.get("pending"):
            dispatcher.utter_message(response="utter_insurance_pending")
            return [*events, FollowupAction("action_listen")]
        current = found.get("certificate")
        if current:
            expired = current["expired"]
            dispatcher.utter_message(
                response="utter_insurance_expired" if expired else "utter_insurance_on_file",
                insurer=current["insurer"],
                policy=current["policy_number"],
                date=current["valid_until_text"],
                days=current["days_left"],
            )
        else:
            dispatcher.utter_message(response="utter_insurance_intro")
        return events


class ActionAskInsurer(PortalAction):
    def name(self) -> str:
        return "action_ask_insurer"

    async def call(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        found = await self.portal.insurance(conversation_id=conversation_of(tracker))
        current = (found.get("certificate") or {}).get("insurer")
        names = [current] if current else []
        names += [n for n in found.get("insurers", []) if n != current][:BUTTON_INSURERS]
        dispatcher.utter_message(
            response="utter_ask_insurer", buttons=[{"title": n, "payload": n} for n in names]
        )
        return []


class ActionAskPolicyNumber(PortalAction):
    def name(self) -> str:
        return "action_ask_policy_number"

    async def call(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        found = await self.portal.insurance(conversation_id=conversation_of(tracker))
        current = found.get("certificate") or {}
        same_insurer = current.get("insurer") == tracker.get_slot("insurer")
        if same_insurer and current.get("policy_number"):
            dispatcher.utter_message(
                response="utter_ask_policy_number_same",
                policy=current["policy_number"],
                buttons=[{"title": current["policy_number"], "payload": current["policy_number"]}],
            )
        else:
            dispatcher.utter_message(response="utter_ask_policy_number")
        return []


class ActionAskCertificateReceived(PortalAction):
    def name(self) -> str:
        return "action_ask_certificate_received"

    async def call(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        found = await self.portal.insurance(conversation_id=conversation_of(tracker))
        upload = found.get("upload", {})
        return await ask_for_file(
            self.portal,
            dispatcher,
            tracker,
            domain,
            purpose=upload.get("purpose", "insurance_certificate"),
            kinds=list(upload.get("kinds", ["pdf"])),
            response="utter_ask_certificate_received",
        )


class ValidateInsuranceForm(VerifiedFormValidation):
    def name(self) -> str:
        return "validate_insurance_form"

    async def _checked(
        self,
        slot: str,
        field: str,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
    ) -> dict[str, Any]:
        async def check() -> dict[str, Any]:
            try:
                answer = await self.portal.check_insurance_field(
                    conversation_id=conversation_of(tracker), field=field, text=str(value or "")
                )
            except PortalRejected as refused:
                if refused.status in PASSED_ON:
                    raise
                dispatcher.utter_message(
                    response=FIELD_PROBLEMS.get(refused.code, "utter_request_failed")
                )
                return {slot: None}
            if field == "date":
                return {
                    slot: answer["valid_until"],
                    "insurance_valid_until_text": answer["valid_until_text"],
                }
            return {slot: answer["value"]}

        return await self.guarded(slot, dispatcher, check())

    async def validate_insurer(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return await self._checked("insurer", "insurer", value, dispatcher, tracker)

    async def validate_policy_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return await self._checked("policy_number", "policy-number", value, dispatcher, tracker)

    async def validate_insurance_valid_until(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return await self._checked("insurance_valid_until", "date", value, dispatcher, tracker)

    async def validate_certificate_received(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return await self.guarded(
            "certificate_received",
            dispatcher,
            file_arrived(self.portal, dispatcher, tracker, slot="certificate_received"),
        )


class ActionSubmitInsurance(ConfirmedFormSubmit):
    """Send the update to staff; the portal acknowledges it by email."""

    form_slots = FORM_SLOTS
    confirmation_slot = "insurance_confirmed"
    cancelled_response = "utter_insurance_cancelled"
    problems = SUBMIT_PROBLEMS

    def name(self) -> str:
        return "action_submit_insurance"

    async def submit(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
        submitted = await self.portal.submit_insurance(
            conversation_id=conversation_of(tracker),
            insurer=tracker.get_slot("insurer"),
            policy_number=tracker.get_slot("policy_number"),
            valid_until=tracker.get_slot("insurance_valid_until"),
            upload_slot_id=int(tracker.get_slot(UPLOAD_SLOT)),
        )
        dispatcher.utter_message(
            response="utter_insurance_submitted",
            insurer=submitted["insurer"],
            date=submitted["valid_until_text"],
            hours=submitted.get("validation_delay_hours", VALIDATION_DELAY_HOURS),
        )
