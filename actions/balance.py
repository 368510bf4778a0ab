"""Balance per lease for a verified conversation, and the unpaid-rent alert."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import PortalAction
from actions.identity import conversation_of
from actions.portal_client import NotVerified
from bot.policy.money import format_eur

#: By the sign of the balance due: in debt, clear, in credit.
BALANCE_RESPONSES = {
    1: "utter_balance_lease_due",
    0: "utter_balance_lease_clear",
    -1: "utter_balance_lease_credit",
}


def unpaid_alert(dispatcher: CollectingDispatcher, profile: dict[str, Any]) -> bool:
    """Tell the tenant about unpaid rent and offer to pay or reach their customer officer."""
    total = Decimal(str(profile.get("total_due", "0")))
    if total <= 0:
        return False
    dispatcher.utter_message(response="utter_unpaid_alert", amount=format_eur(total))
    return True


class ActionShowBalance(PortalAction):
    def name(self) -> str:
        return "action_show_balance"

    async def call(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        try:
            profile = await self.portal.me(conversation_id=conversation_of(tracker))
        except NotVerified:
            dispatcher.utter_message(response="utter_verification_expired")
            return [SlotSet("verified", False)]
        for lease in profile.get("leases", []):
            due = Decimal(lease["balance_due"])
            dispatcher.utter_message(
                response=BALANCE_RESPONSES[(due > 0) - (due < 0)],
                lease=lease["label"],
                amount=format_eur(abs(due)),
                rent=format_eur(lease["monthly_rent"]),
            )
        if not unpaid_alert(dispatcher, profile):
            dispatcher.utter_message(response="utter_balance_all_clear")
        return []
