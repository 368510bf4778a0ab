"""Home insurance in the chat: what is on file is shown and offered, each answer is checked by
the portal as it is typed, the certificate arrives through a link, staff validate in 48 h."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.insurance import (
    ActionAskCertificateReceived,
    ActionAskInsurer,
    ActionAskPolicyNumber,
    ActionPrepareInsurance,
    ActionSubmitInsurance,
    ValidateInsuranceForm,
)
from tests.actions.helpers import domain, tracker
from tests.actions.test_payments import slots_set
from tests.actions.test_verification import FakePortal, said

CERTIFICATE = {
    "insurer": "MAIF",
    "policy_number": "P-000123",
    "valid_until": "2026-12-06",
    "valid_until_text": "6 décembre 2026",
    "days_left": 10,
    "expired": False,
    "status": "accepted",
}
ON_FILE = {
    "certificate": CERTIFICATE,
    "pending": None,
    "insurers": ["MAIF", "MACIF", "MAAF", "Matmut", "GMF", "MMA", "AXA", "Allianz", "Generali"],
    "upload": {"purpose": "insurance_certificate", "kinds": ["pdf"]},
    "validation_delay_hours": 48,
}


def insurance_route(**changes: object) -> dict:
    return {("GET", "/insurance"): (200, {**ON_FILE, **changes})}


@pytest.mark.parametrize(
    ("changes", "reply"),
    [
        ({}, "utter_insurance_on_file"),
        (
            {"certificate": {**CERTIFICATE, "expired": True, "days_left": -3}},
            "utter_insurance_expired",
        ),
        ({"certificate": None}, "utter_insurance_intro"),
    ],
)
async def test_what_is_on_file_is_said_first(changes, reply):
    dispatcher = CollectingDispatcher()
    events = await ActionPrepareInsurance(FakePortal(insurance_route(**changes)).client()).run(
        dispatcher, tracker(), domain()
    )
    assert said(dispatcher) == [reply]
    assert not any(e["event"] == "followup" for e in events)


async def test_the_current_certificate_is_quoted_in_the_prefill():
    dispatcher = CollectingDispatcher()
    await ActionPrepareInsurance(FakePortal(insurance_route()).client()).run(
        dispatcher, tracker(), domain()
    )
    message = dispatcher.messages[0]
    assert (message["insurer"], message["policy"], message["date"]) == (
        "MAIF",
        "P-000123",
        "6 décembre 2026",
    )


async def test_a_submission_waiting_for_staff_stops_the_flow():
    dispatcher = CollectingDispatcher()
    events = await ActionPrepareInsurance(
        FakePortal(insurance_route(pending=CERTIFICATE)).client()
    ).run(dispatcher, tracker(), domain())
    assert said(dispatcher) == ["utter_insurance_pending"]
    assert [e["name"] for e in events if e["event"] == "followup"] == ["action_listen"]


async def test_the_current_insurer_is_the_first_button():
    dispatcher = CollectingDispatcher()
    await ActionAskInsurer(FakePortal(insurance_route()).client()).run(
        dispatcher, tracker(), domain()
    )
    titles = [b["title"] for b in dispatcher.messages[0]["buttons"]]
    assert titles[0] == "MAIF" and titles.count("MAIF") == 1 and len(titles) == 9


@pytest.mark.parametrize(
    ("insurer", "reply", "buttons"),
    [
        ("MAIF", "utter_ask_policy_number_same", ["P-000123"]),
        ("AXA", "utter_ask_policy_number", None),
    ],
)
async def test_the_policy_number_is_offered_only_for_the_same_insurer(insurer, reply, buttons):
    dispatcher = CollectingDispatcher()
    await ActionAskPolicyNumber(FakePortal(insurance_route()).client()).run(
        dispatcher, tracker(slots={"insurer": insurer}), domain()
    )
    assert said(dispatcher) == [reply]
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == (buttons or [])


@pytest.mark.parametrize(
    ("method", "path", "answer", "expected"),
    [
        ("validate_insurer", "/insurance-checks/insurer", {"value": "MAIF"}, {"insurer": "MAIF"}),
        (
            "validate_policy_number",
            "/insurance-checks/policy-number",
            {"value": "P-000 777"},
            {"policy_number": "P-000 777"},
        ),
        (
            "validate_insurance_valid_until",
            "/insurance-checks/date",
            {"valid_until": "2027-12-31", "valid_until_text": "31 décembre 2027"},
            {
                "insurance_valid_until": "2027-12-31",
                "insurance_valid_until_text": "31 décembre 2027",
            },
        ),
    ],
)
async def test_each_answer_is_tidied_by_the_portal(method, path, answer, expected):
    portal = FakePortal({("POST", path): (200, answer)})
    result = await getattr(ValidateInsuranceForm(portal.client()), method)(
        " typed ", CollectingDispatcher(), tracker(), domain()
    )
    assert result == expected
    assert portal.sent == [{"text": " typed "}]


@pytest.mark.parametrize(
    ("method", "path", "code", "reply"),
    [
        (
            "validate_insurer",
            "/insurance-checks/insurer",
            "invalid_insurer",
            "utter_invalid_insurer",
        ),
        (
            "validate_policy_number",
            "/insurance-checks/policy-number",
            "invalid_policy_number",
            "utter_invalid_policy_number",
        ),
        (
            "validate_insurance_valid_until",
            "/insurance-checks/date",
            "date_in_past",
            "utter_insurance_date_past",
        ),
        (
            "validate_insurance_valid_until",
            "/insurance-checks/date",
            "invalid_date",
            "utter_invalid_insurance_date",
        ),
        (
            "validate_insurance_valid_until",
            "/insurance-checks/date",
            "date_too_far",
            "utter_insurance_date_too_far",
        ),
    ],
)
async def test_each_refusal_is_explained_and_the_slot_left_empty(method, path, code, reply):
    portal = FakePortal({("POST", path): (400, {"error": code})})
    dispatcher = CollectingDispatcher()
    result = await getattr(ValidateInsuranceForm(portal.client()), method)(
        "n'importe quoi", dispatcher, tracker(), domain()
    )
    assert list(result.values()) == [None]
    assert said(dispatcher) == [reply]


async def test_the_certificate_link_accepts_only_a_pdf():
    created = {"slot_id": 9, "upload_url": "http://portal.test/depot/xyz", "expires_at": "x"}
    portal = FakePortal({**insurance_route(), ("POST", "/uploads"): (201, created)})
    events = await ActionAskCertificateReceived(portal.client()).run(
        CollectingDispatcher(), tracker(), domain()
    )
    assert portal.sent[-1] == {"purpose": "insurance_certificate", "kinds": ["pdf"]}
    assert slots_set(events) == {"upload_slot_id": 9}


COMPLETE = {
    "insurer": "MAIF",
    "policy_number": "P-000123",
    "insurance_valid_until": "2027-12-31",
    "certificate_received": "reçu",
    "upload_slot_id": 9.0,
    "insurance_confirmed": True,
    "verified": True,
}


async def test_a_confirmed_update_is_sent_for_validation_within_48_hours():
    submitted = {
        "id": 3,
        "status": "pending",
        "insurer": "MAIF",
        "policy_number": "P-000123",
        "valid_until": "2027-12-31",
        "valid_until_text": "31 décembre 2027",
        "validation_delay_hours": 48,
    }
    portal = FakePortal({("POST", "/insurance-submissions"): (201, submitted)})
    dispatcher = CollectingDispatcher()
    await ActionSubmitInsurance(portal.client()).run(dispatcher, tracker(slots=COMPLETE), domain())
    assert portal.sent == [
        {
            "insurer": "MAIF",
            "policy_number": "P-000123",
            "valid_until": "2027-12-31",
            "upload_slot_id": 9,
        }
    ]
    assert said(dispatcher) == ["utter_insurance_submitted"]
    assert dispatcher.messages[0]["hours"] == 48


async def test_nothing_is_sent_when_the_tenant_says_no():
    portal = FakePortal({})
    dispatcher = CollectingDispatcher()
    await ActionSubmitInsurance(portal.client()).run(
        dispatcher, tracker(slots={**COMPLETE, "insurance_confirmed": False}), domain()
    )
    assert said(dispatcher) == ["utter_insurance_cancelled"] and portal.calls == []


async def test_an_expired_verification_is_said_and_nothing_sent():
    portal = FakePortal({})
    dispatcher = CollectingDispatcher()
    await ActionSubmitInsurance(portal.client()).run(
        dispatcher, tracker(slots={**COMPLETE, "verified": False}), domain()
    )
    assert said(dispatcher) == ["utter_verification_expired"] and portal.calls == []
