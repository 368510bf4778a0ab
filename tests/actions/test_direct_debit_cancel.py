"""A direct-debit request given up in the chat ("annuler", "non" to the summary, a refusal) asks
the portal to forget the IBAN it kept and the RIB sent for it; the tenant is told it is cancelled
whatever the portal answers."""

from __future__ import annotations

import httpx
import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.direct_debit import FORM_SLOTS, ActionCancelDirectDebit, ActionSubmitDirectDebit
from actions.portal_client import PortalClient
from tests.actions.helpers import domain, tracker
from tests.actions.test_direct_debit import CONFIRMED, PROFILE
from tests.actions.test_payments import slots_set
from tests.actions.test_verification import said

FORGET = ("DELETE", "/api/v1/direct-debit/iban")


class RecordingPortal:
    """Answers ``routes`` by (method, path); records every call with its query string."""

    def __init__(self, routes: dict[tuple[str, str], tuple[int, dict]]):
        self.routes = {("GET", "/api/v1/direct-debit/profile"): (200, PROFILE), **routes}
        self.calls: list[tuple[str, str, str]] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        key = (request.method, request.url.path)
        self.calls.append((*key, request.url.query.decode()))
        if key == FORGET and key not in self.routes:
            return httpx.Response(204)
        status, body = self.routes.get(key, (404, {"error": "not_found"}))
        return httpx.Response(status, json=body)

    def client(self) -> PortalClient:
        return PortalClient("http://portal.test", "t", transport=httpx.MockTransport(self.handler))

    def forgotten(self) -> list[str]:
        """The query strings of the calls that asked the portal to forget."""
        return [query for method, path, query in self.calls if (method, path) == FORGET]


@pytest.mark.parametrize(
    ("slots", "query"),
    [
        ({"upload_slot_id": 5.0}, "rib_slot_id=5"),
        ({"upload_slot_id": "12"}, "rib_slot_id=12"),
        ({}, ""),  # cancelled before the RIB link
    ],
)
async def test_annuler_makes_the_portal_forget_the_iban_and_the_rib(slots, query):
    portal = RecordingPortal({})
    dispatcher = CollectingDispatcher()

    events = await ActionCancelDirectDebit(portal.client()).run(
        dispatcher, tracker(slots={"iban": "FR76 ****", **slots}, intent="cancel"), domain()
    )

    assert portal.forgotten() == [query]
    assert said(dispatcher) == ["utter_direct_debit_cancelled"]
    assert set(slots_set(events)) == set(FORM_SLOTS)
    assert all(value is None for value in slots_set(events).values())


@pytest.mark.parametrize(
    "answer",
    [
        (503, {"error": "unavailable"}),
        (401, {"error": "not_verified"}),
        (429, {"error": "too_many_attempts"}),
    ],
)
async def test_the_tenant_hears_it_is_cancelled_whatever_the_portal_says(answer):
    portal = RecordingPortal({FORGET: answer})
    dispatcher = CollectingDispatcher()

    await ActionCancelDirectDebit(portal.client()).run(dispatcher, tracker(), domain())

    assert said(dispatcher) == ["utter_direct_debit_cancelled"]


async def test_no_to_the_summary_forgets_the_request_too():
    portal = RecordingPortal({})
    dispatcher = CollectingDispatcher()

    await ActionSubmitDirectDebit(portal.client()).run(
        dispatcher, tracker(slots={**CONFIRMED, "direct_debit_confirmed": False}), domain()
    )

    assert portal.forgotten() == ["rib_slot_id=5"]
    assert said(dispatcher) == ["utter_direct_debit_cancelled"]
    assert ("POST", "/api/v1/direct-debits", "") not in portal.calls


async def test_a_refused_request_is_forgotten_a_recorded_one_is_not():
    refused = RecordingPortal({("POST", "/api/v1/direct-debits"): (409, {"error": "iban_missing"})})
    created = {
        "mandate_reference": "OPH-87654321-20261126-ABC123",
        "status": "pending_signature",
        "debit_day": 7,
        "iban_masked": "FR76 ****",
        "email": "claire.dupont@example.org",
    }
    recorded = RecordingPortal({("POST", "/api/v1/direct-debits"): (201, created)})

    for portal in (refused, recorded):
        await ActionSubmitDirectDebit(portal.client()).run(
            CollectingDispatcher(), tracker(slots=CONFIRMED), domain()
        )

    assert refused.forgotten() == ["rib_slot_id=5"]
    assert recorded.forgotten() == []  # the portal forgot the draft when it recorded the request


async def test_an_expired_verification_is_not_forgotten_twice():
    """401 on the request: the draft expires with the verification, nothing more is asked."""
    portal = RecordingPortal({("POST", "/api/v1/direct-debits"): (401, {"error": "not_verified"})})
    dispatcher = CollectingDispatcher()

    await ActionSubmitDirectDebit(portal.client()).run(
        dispatcher, tracker(slots=CONFIRMED), domain()
    )

    assert portal.forgotten() == []
    assert said(dispatcher) == ["utter_verification_expired"]
