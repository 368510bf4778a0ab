"""Direct debit through the chat: prefilled contact details, IBAN checks, the RIB sent through
an upload link, then the request recorded and the prefilled SEPA mandate emailed as a PDF."""

from __future__ import annotations

import asyncio
import io
import logging
import re
from urllib.parse import urlsplit

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.mail.smtp import build_message
from bot.portal.models import DirectDebitRequest, DirectDebitStatus, OutboxEmail
from bot.portal.services import direct_debit
from bot.portal.services.outbox import enqueue_email
from tests.portal.support import Mailbox, Portal, email_attachments, verify_conversation, words
from tests.portal.test_uploads import pdf_file

NGUYEN = "minh.nguyen@example.org"
CLAIRE = "claire.dupont@example.org"
IBAN = "fr76 3000 6000 0112 3456 7890 189"
IBAN_PRINTED = "FR76 3000 6000 0112 3456 7890 189"


async def rib_slot(portal: Portal, conversation: str, *, send: bool = True) -> int:
    """Ask for an upload link for the RIB and (by default) send a PDF through it."""
    created = await portal.api(
        "/api/v1/uploads",
        {"purpose": "rib", "kinds": ["pdf", "image"]},
        conversation_id=conversation,
    )
    assert created.status_code == 201, created.text
    slot = created.json()
    if send:
        sent = await portal.client.post(
            urlsplit(slot["upload_url"]).path,
            files={"fichier": ("rib.pdf", pdf_file(), "application/pdf")},
        )
        assert sent.status_code == 200
    return slot["slot_id"]


def request_body(slot_id: int, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "iban": IBAN,
        "bank_name": "",
        "debit_day": 7,
        "holder_name": "Claire Dupont",
        "address": "3 rue des Tilleuls, 67000 Strasbourg",
        "rib_slot_id": slot_id,
    }
    return {**body, **changes}


async def create(portal: Portal, conversation: str, body: dict[str, object]):
    return await portal.api("/api/v1/direct-debits", body, conversation_id=conversation)


async def requests_in_db(portal: Portal) -> list[DirectDebitRequest]:
    async with portal.sessions() as session:
        return list(
            await session.scalars(
                select(DirectDebitRequest)
                .options(selectinload(DirectDebitRequest.leases))
                .order_by(DirectDebitRequest.id)
            )
        )


# --------------------------------------------------------------------------- prefill


async def test_contact_details_are_prefilled_from_the_household(portal: Portal) -> None:
    await verify_conversation(portal, NGUYEN, "d1")

    response = await portal.client.get("/api/v1/direct-debit/profile", headers=portal.headers("d1"))

    assert response.status_code == 200
    assert response.json() == {
        "holder_name": "Nguyen",
        "address": "8 allée des Peupliers, 67200 Strasbourg",
        "email": NGUYEN,
        "debit_day": 7,
        "debit_days": [2, 7, 10],
        "leases": [
            {"reference": "BAIL-11223344-1", "label": "Appartement"},
            {"reference": "BAIL-11223344-2", "label": "Parking"},
        ],
        "pending_mandate_reference": None,
    }


async def test_a_household_without_direct_debit_has_no_current_day(portal: Portal) -> None:
    await verify_conversation(portal, CLAIRE, "d2")

    profile = (
        await portal.client.get("/api/v1/direct-debit/profile", headers=portal.headers("d2"))
    ).json()

    assert (profile["holder_name"], profile["debit_day"]) == ("Dupont", None)
    assert profile["address"] == "3 rue des Tilleuls, 67000 Strasbourg"


# --------------------------------------------------------------------------- IBAN checks


@pytest.mark.parametrize(
    ("typed", "status", "expected"),
    [
        (
            IBAN,
            200,
            {
                "valid": True,
                "iban_formatted": IBAN_PRINTED,
                "country_code": "FR",
                "bank_name": "CREDIT AGRICOLE SA",
                "bic": "AGRIFRPPXXX",
            },
        ),
        (
            "DE89370400440532013000",
            200,
            {
                "valid": True,
                "iban_formatted": "DE89 3704 0044 0532 0130 00",
                "country_code": "DE",
                "bank_name": "Commerzbank",
                "bic": "COBADEFFXXX",
            },
        ),
        ("FR76 3000 6000 0112 3456 7890 188", 400, {"error": "invalid_iban_checksum"}),
        ("FR76 3000 6000 0112 3456 7890", 400, {"error": "invalid_iban_length"}),
        ("ZZ76 3000 6000 0112 3456 7890 189", 400, {"error": "invalid_iban_country"}),
        ("BR15 0000 0000 0000 1093 2840 814P 2", 400, {"error": "iban_not_sepa"}),
    ],
)
async def test_iban_checks(portal: Portal, typed: str, status: int, expected: dict) -> None:
    await verify_conversation(portal, CLAIRE, "d3")

    response = await portal.api("/api/v1/iban-checks", {"iban": typed}, conversation_id="d3")

    assert response.status_code == status
    assert expected.items() <= response.json().items()
    if status == 400:
        assert response.json()["field"] == "iban" and response.json()["message"]


# --------------------------------------------------------------------------- the request


async def test_the_request_is_recorded_and_the_mandate_emailed_as_a_pdf(
    portal: Portal, mailbox: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # what production logs
    await verify_conversation(portal, CLAIRE, "d4")
    slot_id = await rib_slot(portal, "d4")

    response = await create(portal, "d4", request_body(slot_id, debit_day="10"))

    assert response.status_code == 201, response.text
    answer = response.json()
    reference = answer["mandate_reference"]
    assert re.fullmatch(r"OPH-87654321-\d{8}-[A-Z0-9]{6}", reference)
    assert answer["status"] == "pending_signature" and answer["debit_day"] == 10
    assert answer["iban_masked"] == "FR76 **** **** **** **** ***0 189"
    assert answer["bank_name"] == "CREDIT AGRICOLE SA"  # proposed from the IBAN

    (recorded,) = await requests_in_db(portal)
    assert (recorded.iban, recorded.bic) == ("FR7630006000011234567890189", "AGRIFRPPXXX")
    assert recorded.status == DirectDebitStatus.PENDING_SIGNATURE
    assert [lease.reference for lease in recorded.leases] == ["BAIL-87654321-1"]
    assert recorded.rib_upload_id is not None

    await portal.deliver_now()
    email = await mailbox.wait_for(to=CLAIRE, subject="mandat de prélèvement SEPA")
    text = words(email.text)
    assert reference in text and "FR76 **** **** **** **** ***0 189" in text
    assert "RIB original" in text and "24 route de l'Hôpital" in text
    assert "7890 189" not in text.replace("***0 189", "")  # only masked in the email body
    filename = f"mandat-sepa-{reference}.pdf"
    assert email.attachments == [filename]

    pdf = email_attachments(mailbox, email)[filename]
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    printed = words(reader.pages[0].extract_text())
    for expected in (
        reference,
        IBAN_PRINTED,
        "AGRIFRPPXXX",
        portal.settings.creditor_identifier,
        portal.settings.creditor_name,
        "Claire Dupont",
        "3 rue des Tilleuls, 67000 Strasbourg",
        "le 10 de chaque mois",
        "24 route de l'Hôpital",
        "RIB original",
    ):
        assert expected in printed, expected

    # The portal stores the IBAN but never writes it to its logs.
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "30006000011234567890189" not in logged.replace(" ", "")

    profile = (
        await portal.client.get("/api/v1/direct-debit/profile", headers=portal.headers("d4"))
    ).json()
    assert profile["pending_mandate_reference"] == reference


async def test_a_second_pending_request_is_refused(portal: Portal) -> None:
    await verify_conversation(portal, NGUYEN, "d5")
    first = await create(portal, "d5", request_body(await rib_slot(portal, "d5")))
    assert first.status_code == 201
    before = await portal.snapshot()

    second = await create(portal, "d5", request_body(await rib_slot(portal, "d5"), debit_day=2))

    assert (second.status_code, second.json()["error"]) == (409, "direct_debit_pending")
    after = await portal.snapshot()
    assert after["direct_debit_requests"] == before["direct_debit_requests"]
    assert len(after["outbox_emails"]) == len(before["outbox_emails"])


async def test_the_rib_must_have_arrived(portal: Portal) -> None:
    await verify_conversation(portal, CLAIRE, "d6")
    slot_id = await rib_slot(portal, "d6", send=False)

    response = await create(portal, "d6", request_body(slot_id))

    assert (response.status_code, response.json()["error"]) == (409, "rib_not_received")
    assert await requests_in_db(portal) == []


async def test_a_rib_sent_for_another_household_cannot_be_used(portal: Portal) -> None:
    await verify_conversation(portal, NGUYEN, "d7")
    await verify_conversation(portal, CLAIRE, "d8")
    nguyen_slot = await rib_slot(portal, "d7")

    response = await create(portal, "d8", request_body(nguyen_slot))

    assert (response.status_code, response.json()["error"]) == (400, "rib_not_found")


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"debit_day": 5}, 400, "invalid_debit_day"),
        ({"debit_day": "le 7"}, 400, "wrong_type"),
        ({"debit_day": True}, 400, "wrong_type"),
        ({"iban": "FR76 3000 6000 0112 3456 7890 188"}, 400, "invalid_iban_checksum"),
        ({"iban": "BR15 0000 0000 0000 1093 2840 814P 2"}, 400, "iban_not_sepa"),
        ({"holder_name": " "}, 400, "invalid_holder_name"),
        ({"address": "ici"}, 400, "invalid_address"),
        ({"iban": "CH93 0076 2011 6238 5295 7"}, 400, "missing_bank_name"),
        ({"leases": ["BAIL-11223344-1"]}, 400, "unknown_lease"),
        ({"rib_slot_id": None}, 400, "missing_field"),
    ],
)
async def test_bad_requests_change_nothing(
    portal: Portal, changes: dict, status: int, code: str
) -> None:
    await verify_conversation(portal, CLAIRE, "d9")
    slot_id = await rib_slot(portal, "d9")
    before = await portal.snapshot()

    response = await create(portal, "d9", request_body(slot_id, **changes))

    assert (response.status_code, response.json()["error"]) == (status, code)
    assert await portal.snapshot() == before


async def test_a_bank_unknown_to_the_registry_is_named_by_the_tenant(portal: Portal) -> None:
    await verify_conversation(portal, CLAIRE, "d10")
    body = request_body(
        await rib_slot(portal, "d10"), iban="CH93 0076 2011 6238 5295 7", bank_name="PostFinance"
    )

    response = await create(portal, "d10", body)

    assert response.status_code == 201 and response.json()["bank_name"] == "PostFinance"


async def test_an_unverified_conversation_can_do_nothing(portal: Portal) -> None:
    before = await portal.snapshot()
    calls = [
        await portal.client.get("/api/v1/direct-debit/profile", headers=portal.headers("anon")),
        await portal.api("/api/v1/iban-checks", {"iban": IBAN}, conversation_id="anon"),
        await create(portal, "anon", request_body(1)),
    ]
    assert [(call.status_code, call.json()["error"]) for call in calls] == [
        (401, "not_verified")
    ] * 3
    assert await portal.snapshot() == before


async def test_without_the_service_token_nothing_is_answered(portal: Portal) -> None:
    response = await portal.client.post("/api/v1/iban-checks", json={"iban": IBAN})
    assert response.status_code == 401


# --------------------------------------------------------------------------- outbox attachments


async def test_attachments_travel_with_the_queued_email(portal: Portal) -> None:
    async with portal.sessions.begin() as session:
        await enqueue_email(
            session=session,
            to="a@example.org",
            template="password_changed",
            portal_url="http://x",
            attachments=[
                ("note.txt", "text/plain", b"bonjour"),
                ("a.pdf", "application/pdf", b"%PDF-"),
            ],
        )
    async with portal.sessions() as session:
        email = await session.scalar(
            select(OutboxEmail).options(selectinload(OutboxEmail.attachments))
        )
    message = build_message(email, sender="portail@example.org")

    parts = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    assert parts == {"note.txt": "bonjour", "a.pdf": b"%PDF-"}
    assert message.get_body(preferencelist=("plain",)).get_content().startswith("Bonjour,")


async def test_two_requests_sent_at_once_record_only_one(portal: Portal) -> None:
    await verify_conversation(portal, NGUYEN, "d11")
    first_slot, second_slot = await rib_slot(portal, "d11"), await rib_slot(portal, "d11")

    answers = await asyncio.gather(
        create(portal, "d11", request_body(first_slot)),
        create(portal, "d11", request_body(second_slot, debit_day=2)),
    )

    assert sorted(answer.status_code for answer in answers) == [201, 409]
    assert len(await requests_in_db(portal)) == 1


async def test_the_database_itself_keeps_one_pending_request_per_household(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    await verify_conversation(portal, NGUYEN, "d12")
    assert (
        await create(portal, "d12", request_body(await rib_slot(portal, "d12")))
    ).status_code == 201

    async def no_pending(**_: object) -> None:  # as if a concurrent request had not committed yet
        return None

    monkeypatch.setattr(direct_debit, "_pending_request", no_pending)
    second = await create(portal, "d12", request_body(await rib_slot(portal, "d12")))

    assert (second.status_code, second.json()["error"]) == (409, "direct_debit_pending")
    assert len(await requests_in_db(portal)) == 1


# --------------------------------------------------------------------------- the chat's draft


async def remember(portal: Portal, conversation: str, iban: str):
    return await portal.api(
        "/api/v1/direct-debit/iban", {"iban": iban}, conversation_id=conversation, method="PUT"
    )


async def test_the_iban_typed_in_chat_is_kept_by_the_portal_for_the_request(
    portal: Portal, mailbox: Mailbox
) -> None:
    await verify_conversation(portal, CLAIRE, "draft-1")
    kept = await remember(portal, "draft-1", IBAN)
    assert kept.status_code == 200, kept.text
    assert kept.json()["iban_masked"] == "FR76 **** **** **** **** ***0 189"
    assert "3000 6000" not in kept.text  # never echoed whole
    body = request_body(await rib_slot(portal, "draft-1"))
    del body["iban"]
    created = await create(portal, "draft-1", body)
    assert created.status_code == 201, created.text
    (request,) = await requests_in_db(portal)
    assert request.iban == "FR7630006000011234567890189"
    # Sent: the draft is gone, a second request cannot reuse it.
    again = await create(portal, "draft-1", body)
    assert again.status_code == 409 and again.json()["error"] == "iban_missing"


async def test_a_new_iban_replaces_the_previous_one(portal: Portal) -> None:
    await verify_conversation(portal, CLAIRE, "draft-2")
    await remember(portal, "draft-2", "DE89 3704 0044 0532 0130 00")
    await remember(portal, "draft-2", IBAN)
    body = request_body(await rib_slot(portal, "draft-2"))
    del body["iban"]
    assert (await create(portal, "draft-2", body)).status_code == 201
    (request,) = await requests_in_db(portal)
    assert request.iban.startswith("FR76")


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("FR76 3000 6000 0112 3456 7890 188", "invalid_iban_checksum"),
        ("FR76 3000", "invalid_iban_length"),
        ("", "missing_field"),
    ],
)
async def test_a_wrong_iban_is_refused_and_nothing_kept(
    portal: Portal, typed: str, code: str
) -> None:
    await verify_conversation(portal, CLAIRE, "draft-3")
    refused = await remember(portal, "draft-3", typed)
    assert refused.status_code == 400 and refused.json()["error"] == code
    body = request_body(await rib_slot(portal, "draft-3"))
    del body["iban"]
    assert (await create(portal, "draft-3", body)).json()["error"] == "iban_missing"


async def test_another_conversation_cannot_use_the_iban(portal: Portal) -> None:
    await verify_conversation(portal, CLAIRE, "draft-4")
    await remember(portal, "draft-4", IBAN)
    await verify_conversation(portal, CLAIRE, "draft-5")
    body = request_body(await rib_slot(portal, "draft-5"))
    del body["iban"]
    assert (await create(portal, "draft-5", body)).json()["error"] == "iban_missing"


async def test_unverified_conversations_cannot_leave_an_iban(portal: Portal) -> None:
    refused = await remember(portal, "nobody", IBAN)
    assert refused.status_code == 401
