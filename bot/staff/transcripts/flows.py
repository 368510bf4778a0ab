"""The flows the overview follows from start to end, in one table.

A flow *starts* when Rasa activates its form (an ``active_loop`` event naming the form) and is
*completed* when the assistant sends the response a custom action only sends once the portal
accepted the request (a ``bot`` event whose ``metadata.utter_action`` names it: Rasa 3.6 sets
it on every response sent by name from an action). The conversation index records both per
conversation (``ConversationSummary.flows_started`` / ``flows_completed``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Flow:
    """One flow: its code in the index, the form that starts it, the response that ends it."""

    name: str
    form: str
    completed_by: str


FLOWS: tuple[Flow, ...] = (
    Flow("register", "register_form", "utter_registration_submitted"),
    Flow("payment", "payment_form", "utter_payment_link"),
    Flow("direct_debit", "direct_debit_form", "utter_direct_debit_requested"),
    Flow("insurance", "insurance_form", "utter_insurance_submitted"),
)
FLOW_BY_FORM = {flow.form: flow.name for flow in FLOWS}
FLOW_BY_RESPONSE = {flow.completed_by: flow.name for flow in FLOWS}
