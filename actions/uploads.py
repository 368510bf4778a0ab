"""Files the tenant sends during a form (RIB, insurance certificate) through an upload link.

The chat cannot carry files on every channel, so the portal hands out a single-use link to a
page where the file is sent; the form slot is filled once the portal says the file arrived.
The link's slot id is kept in ``upload_slot_id``; the link itself is only ever in a bot message.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.identity import conversation_of
from actions.portal_client import PortalClient
from actions.wording import response_text

UPLOAD_SLOT = "upload_slot_id"
#: Value of a form slot once its file has arrived.
RECEIVED = "reçu"


def sent_button(domain: DomainDict, tracker: Tracker) -> dict[str, str]:
    """The button the tenant presses once the file is sent."""
    return {"title": response_text("utter_button_file_sent", domain, tracker), "payload": "/affirm"}


async def ask_for_file(
    portal: PortalClient,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: DomainDict,
    *,
    purpose: str,
    kinds: list[str],
    response: str,
) -> list[dict[str, Any]]:
    """Give a new link, or, when the link already given is still open, say we are waiting."""
    slot_id = tracker.get_slot(UPLOAD_SLOT)
    if slot_id:
        state = await portal.upload_status(
            conversation_id=conversation_of(tracker), slot_id=slot_id
        )
        if state.get("status") == "waiting" and state.get("purpose") == purpose:
            dispatcher.utter_message(
                response="utter_upload_waiting", buttons=[sent_button(domain, tracker)]
            )
            return []
    created = await portal.create_upload(
        conversation_id=conversation_of(tracker), purpose=purpose, kinds=kinds
    )
    dispatcher.utter_message(
        response=response, link=created["upload_url"], buttons=[sent_button(domain, tracker)]
    )
    return [SlotSet(UPLOAD_SLOT, created["slot_id"])]


async def file_arrived(
    portal: PortalClient, dispatcher: CollectingDispatcher, tracker: Tracker, *, slot: str
) -> dict[str, Any]:
    """The validation of an upload slot: filled when the portal has the file, else asked again."""
    slot_id = tracker.get_slot(UPLOAD_SLOT)
    if not slot_id:
        return {slot: None}
    state = await portal.upload_status(conversation_id=conversation_of(tracker), slot_id=slot_id)
    if state.get("status") == "received":
        dispatcher.utter_message(response="utter_file_received", filename=state.get("filename"))
        return {slot: RECEIVED}
    if state.get("status") == "expired":
        dispatcher.utter_message(response="utter_upload_expired")
        return {slot: None, UPLOAD_SLOT: None}
    return {slot: None}
