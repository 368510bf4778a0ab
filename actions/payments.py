"""Paying rent online from the chat: choose the lease, the amount (the balance by default),
confirm; the portal returns a single-use payment link to the bank's payment page."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import PortalAction
from actions.form_base import TenantFormValidation
from actions.identity import conversation_of
from actions.portal_client import NotVerified, PortalClient, default_client
from actions.wording import response_text
from bot.errors import InvalidInput
from bot.policy.money import format_eur, parse_amount
from bot.settings import Settings

PAYMENT_SLOTS = ("payment_lease", "payment_amount", "payment_confirmed")
#: The portal's amount rule codes, and how each is explained.
AMOUNT_PROBLEMS = {
    "invalid_amount": "utter_invalid_amount",
    "amount_not_positive": "utter_amount_not_positive",
    "too_many_decimals": "utter_amount_too_many_decimals",
    "amount_too_high": "utter_amount_too_high",
}


def _lease(profile: dict[str, Any], reference: str | None) -> dict[str, Any] | None:
    return next(
        (lease for lease in profile.get("leases", []) if lease["reference"] == reference), None
    )


_WORDS = re.compile(r"[\w-]+")


def _leases_named(leases: list[dict[str, Any]], typed: str) -> list[dict[str, Any]]:
    """The leases whose reference or label the tenant typed ("Parking", "le parking, 45 €")."""
    words = " " + " ".join(_WORDS.findall(typed.lower())) + " "
    return [
        lease
        for lease in leases
        if any(f" {name.lower()} " in words for name in (lease["reference"], lease["label"]))
    ]


class ActionPreparePayment(PortalAction):
    """Before the form: one lease is chosen for the tenant; its balance is the default amount."""

    def name(self) -> str:
        return "action_prepare_payment"

    async def call(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        profile = await self.portal.me(conversation_id=conversation_of(tracker))
        events = [SlotSet(slot, None) for slot in PAYMENT_SLOTS]
        leases = profile.get("leases", [])
        if len(leases) == 1:
            events.append(SlotSet("payment_lease", leases[0]["reference"]))
        return events


class ActionAskPaymentLease(PortalAction):
    def name(self) -> str:
        return "action_ask_payment_lease"

    async def call(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        profile = await self.portal.me(conversation_id=conversation_of(tracker))
        buttons = [
            {
                "title": response_text(
                    "utter_button_lease_due",
                    domain,
                    tracker,
                    lease=lease["label"],
                    amount=format_eur(lease["balance_due"]),
                ),
                "payload": lease["reference"],
            }
            for lease in profile.get("leases", [])
        ]
        dispatcher.utter_message(response="utter_ask_payment_lease", buttons=buttons)
        return []


class ActionAskPaymentAmount(PortalAction):
    def name(self) -> str:
        return "action_ask_payment_amount"

    async def call(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        profile = await self.portal.me(conversation_id=conversation_of(tracker))
        lease = _lease(profile, tracker.get_slot("payment_lease")) or {}
        due = Decimal(str(lease.get("balance_due", "0")))
        buttons = [{"title": format_eur(due), "payload": f"{due:.2f}"}] if due > 0 else []
        dispatcher.utter_message(
            response="utter_ask_payment_amount_due" if due > 0 else "utter_ask_payment_amount",
            amount=format_eur(due),
            lease=lease.get("label", ""),
            buttons=buttons,
        )
        return []


class ActionAskPaymentConfirmed(Action):
    def name(self) -> str:
        return "action_ask_payment_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(
            response="utter_ask_payment_confirmed",
            amount=format_eur(tracker.get_slot("payment_amount") or "0"),
        )
        return []


class ValidatePaymentForm(TenantFormValidation):
    def __init__(self, portal: PortalClient | None = None):
        self._portal = portal
        self._maximum = Settings.from_env().payment_max_amount

    def name(self) -> str:
        return "validate_payment_form"

    async def validate_payment_lease(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        portal = self._portal or default_client()
        try:
            profile = await portal.me(conversation_id=conversation_of(tracker))
        except NotVerified:
            dispatcher.utter_message(response="utter_verification_expired")
            return {"payment_lease": None, "requested_slot": None}
        named = _leases_named(profile.get("leases", []), str(value or ""))
        if len(named) == 1:
            return {"payment_lease": named[0]["reference"]}
        dispatcher.utter_message(response="utter_invalid_payment_lease")
        return {"payment_lease": None}

    async def validate_payment_amount(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_intent_of_latest_message() == "affirm":
            # "oui" to "il reste 412,50 € : choisissez ce montant ou écrivez-en un autre".
            value = await self._due(tracker) or value
        try:
            amount = parse_amount(str(value or ""), maximum=self._maximum)
        except InvalidInput as error:
            dispatcher.utter_message(
                response=AMOUNT_PROBLEMS.get(error.code, "utter_invalid_amount")
            )
            return {"payment_amount": None}
        return {"payment_amount": f"{amount:.2f}"}

    async def _due(self, tracker: Tracker) -> str | None:
        """What is due on the chosen lease, when something is."""
        portal = self._portal or default_client()
        try:
            profile = await portal.me(conversation_id=conversation_of(tracker))
        except NotVerified:
            return None
        due = Decimal(
            str((_lease(profile, tracker.get_slot("payment_lease")) or {}).get("balance_due", "0"))
        )
        return f"{due:.2f}" if due > 0 else None


class ActionCreatePayment(PortalAction):
    def name(self) -> str:
        return "action_create_payment"

    async def call(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        reset = [SlotSet(slot, None) for slot in PAYMENT_SLOTS]
        if not tracker.get_slot("payment_confirmed"):
            dispatcher.utter_message(response="utter_payment_cancelled")
            return reset
        try:
            payment = await self.portal.create_payment(
                conversation_id=conversation_of(tracker),
                lease_reference=tracker.get_slot("payment_lease"),
                amount=tracker.get_slot("payment_amount"),
            )
        except NotVerified:
            dispatcher.utter_message(response="utter_verification_expired")
            return [*reset, SlotSet("verified", False)]
        dispatcher.utter_message(
            response="utter_payment_link",
            link=payment["payment_url"],
            amount=format_eur(payment["amount"]),
            lease=payment.get("lease_label", ""),
        )
        return reset

    def after_failure(self) -> list[dict[str, Any]]:
        return [SlotSet(slot, None) for slot in PAYMENT_SLOTS]
