"""Updating the home insurance from the chat: prefill from the certificate in force, insurer from
the list or typed freely, French validity dates, the certificate as a PDF through an upload
link, a submission waiting 48 h for staff, and expiry reminders sent once per threshold."""

from __future__ import annotations

import asyncio
import io
from datetime import date, timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from fpdf import FPDF
from PIL import Image
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from bot.errors import InvalidInput
from bot.policy.french_dates import format_french_date, today_in_france
from bot.portal.models import (
    CertificateStatus,
    Household,
    InsuranceCertificate,
)
from bot.portal.services import insurance
from bot.portal.services.insurers import INSURERS, normalise_insurer
from bot.settings import Settings
from tests.portal.support import Mailbox, Portal, outbox, verify_conversation, words

CLAIRE = "claire.dupont@example.org"
NGUYEN = "minh.nguyen@example.org"
DUPONT_NUMBER = "87654321"


# --------------------------------------------------------------------------- helpers


def certificate_pdf() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Attestation d'assurance habitation - police P-998877")
    return bytes(pdf.output())


def png_image() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 24), (0, 85, 140)).save(buffer, "PNG")
    return buffer.getvalue()


def next_year_end() -> date:
    return date(today_in_france().year + 1, 12, 31)


async def new_slot(portal: Portal, conversation: str, kinds: tuple[str, ...] = ("pdf",)) -> dict:
    response = await portal.api(
        "/api/v1/uploads",
        {"purpose": insurance.UPLOAD_PURPOSE, "kinds": list(kinds)},
        conversation_id=conversation,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def send_file(
    portal: Portal, slot: dict, data: bytes, name: str = "attestation.pdf"
) -> httpx.Response:
    """The tenant sends the file from the page the upload link opens."""
    mime = "application/pdf" if data.startswith(b"%PDF") else "image/png"
    response = await portal.client.post(
        urlsplit(slot["upload_url"]).path,
        files={"fichier": (name, data, mime)},
        headers={"Accept": "text/html"},
    )
    assert response.status_code == 200, response.text
    return response


async def uploaded_slot(portal: Portal, conversation: str) -> int:
    slot = await new_slot(portal, conversation)
    await send_file(portal, slot, certificate_pdf())
    return slot["slot_id"]


def submission(slot_id: int | None, **changes: object) -> dict:
    body = {
        "insurer": "maif",
        "policy_number": "p-998877",
        "valid_until": f"31 décembre {next_year_end().year}",
        "upload_slot_id": slot_id,
    }
    return {**body, **changes}


async def submit(portal: Portal, conversation: str, body: dict) -> httpx.Response:
    return await portal.api("/api/v1/insurance-submissions", body, conversation_id=conversation)


async def show(portal: Portal, conversation: str) -> httpx.Response:
    return await portal.client.get("/api/v1/insurance", headers=portal.headers(conversation))


async def certificates(sessions: sessionmaker) -> list[InsuranceCertificate]:
    async with sessions() as session:
        return list(
            await session.scalars(select(InsuranceCertificate).order_by(InsuranceCertificate.id))
        )


async def household_id(sessions: sessionmaker, client_number: str) -> int:
    async with sessions() as session:
        return await session.scalar(
            select(Household.id).where(Household.client_number == client_number)
        )


# --------------------------------------------------------------------------- reading


async def test_the_verified_tenant_sees_the_certificate_in_force_for_the_prefill(portal) -> None:
    await verify_conversation(portal, CLAIRE, "ins-show")

    response = await show(portal, "ins-show")

    assert response.status_code == 200
    body = response.json()
    expires = date.today() + timedelta(days=10)  # the demo data: expires in 10 days
    assert body["certificate"] == {
        "insurer": "MAIF",
        "policy_number": "P-000123",
        "valid_until": expires.isoformat(),
        "valid_until_text": format_french_date(expires),
        "days_left": (expires - today_in_france()).days,
        "expired": False,
        "status": "current",
    }
    assert body["pending"] is None
    assert {"MAIF", "MACIF", "AXA", "Crédit Agricole Assurances"} <= set(body["insurers"])
    assert body["upload"] == {"purpose": "insurance_certificate", "kinds": ["pdf"]}
    assert body["validation_delay_hours"] == 48


async def test_each_household_sees_its_own_certificate(portal) -> None:
    await verify_conversation(portal, NGUYEN, "ins-nguyen")
    certificate = (await show(portal, "ins-nguyen")).json()["certificate"]
    assert (certificate["insurer"], certificate["policy_number"]) == ("MACIF", "P-000456")
    assert certificate["days_left"] > 300


async def test_an_unverified_conversation_sees_and_changes_nothing(portal) -> None:
    before = await portal.snapshot()
    assert (await show(portal, "stranger")).status_code == 401
    refused = [
        await submit(portal, "stranger", submission(1)),
        await portal.api(
            "/api/v1/insurance-checks/date", {"text": "31/12/2030"}, conversation_id="stranger"
        ),
    ]
    assert [(r.status_code, r.json()["error"]) for r in refused] == [(401, "not_verified")] * 2
    assert await portal.snapshot() == before


# --------------------------------------------------------------------------- typed fields


@pytest.mark.parametrize(
    ("field", "typed", "status", "expected"),
    [
        ("insurer", "credit agricole", 200, "Crédit Agricole Assurances"),
        ("insurer", "  Mutuelle   des Lilas ", 200, "Mutuelle des Lilas"),
        ("insurer", "?", 400, "invalid_insurer"),
        ("policy-number", " p-000 777 ", 200, "P-000 777"),
        ("policy-number", "ab", 400, "invalid_policy_number"),
        ("policy-number", "<script>", 400, "invalid_policy_number"),
        ("colour", "bleu", 404, "unknown_field"),
    ],
)
async def test_insurer_and_policy_number_are_checked_as_the_tenant_goes(
    portal, field: str, typed: str, status: int, expected: str
) -> None:
    await verify_conversation(portal, CLAIRE, "ins-field")
    answer = await portal.api(
        f"/api/v1/insurance-checks/{field}", {"text": typed}, conversation_id="ins-field"
    )
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert (body["value"] if status == 200 else body["error"]) == expected


# --------------------------------------------------------------------------- typed dates


async def test_a_typed_date_is_checked_as_the_tenant_goes(portal) -> None:
    await verify_conversation(portal, CLAIRE, "ins-date")
    year = next_year_end().year

    async def check(text: str) -> httpx.Response:
        return await portal.api(
            "/api/v1/insurance-checks/date", {"text": text}, conversation_id="ins-date"
        )

    accepted = await check(f"31 decembre {year}")
    assert accepted.status_code == 200
    assert accepted.json() == {
        "valid_until": f"{year}-12-31",
        "valid_until_text": f"31 décembre {year}",
    }
    impossible = await check(f"31/02/{year}")
    past = await check("1er janvier 2020")
    assert (impossible.status_code, impossible.json()["error"]) == (400, "invalid_date")
    assert (past.status_code, past.json()["error"]) == (400, "date_in_past")
    assert "passée" in past.json()["message"] and past.json()["field"] == "valid_until"


# --------------------------------------------------------------------------- submitting


async def test_a_complete_update_waits_for_staff_and_is_acknowledged_by_email(
    portal: Portal, mailbox: Mailbox
) -> None:
    await verify_conversation(portal, CLAIRE, "ins-ok")
    slot_id = await uploaded_slot(portal, "ins-ok")

    response = await submit(portal, "ins-ok", submission(slot_id))

    assert response.status_code == 201, response.text
    body = response.json()
    year = next_year_end().year
    assert body["status"] == "pending"
    assert (body["insurer"], body["policy_number"]) == ("MAIF", "P-998877")
    assert body["valid_until"] == f"{year}-12-31"
    assert body["validation_delay_hours"] == 48

    await portal.deliver_now()
    email = await mailbox.wait_for(to=CLAIRE, subject="assurance habitation")
    text = words(email.text)
    assert "48 h" in text
    assert "MAIF" in text and "P-998877" in text and f"31 décembre {year}" in text
    assert "information complémentaire" in text

    # The prefill still shows the certificate in force; the update is shown as pending.
    shown = (await show(portal, "ins-ok")).json()
    assert shown["certificate"]["policy_number"] == "P-000123"
    assert shown["pending"]["policy_number"] == "P-998877"
    (_, pending) = await certificates_of_dupont(portal.sessions)
    assert pending.status == CertificateStatus.PENDING
    assert pending.upload_slot_id == slot_id and pending.submitted_at is not None


async def certificates_of_dupont(sessions: sessionmaker) -> list[InsuranceCertificate]:
    dupont = await household_id(sessions, DUPONT_NUMBER)
    return [c for c in await certificates(sessions) if c.household_id == dupont]


async def test_an_insurer_typed_freely_is_kept(portal: Portal) -> None:
    await verify_conversation(portal, CLAIRE, "ins-free")
    slot_id = await uploaded_slot(portal, "ins-free")
    body = submission(slot_id, insurer="  Mutuelle   des Vosges ", valid_until="2099-01-01")
    body["valid_until"] = next_year_end().isoformat()  # ISO is accepted as well
    response = await submit(portal, "ins-free", body)
    assert response.status_code == 201
    assert response.json()["insurer"] == "Mutuelle des Vosges"


async def test_no_submission_before_the_certificate_is_received(portal: Portal) -> None:
    await verify_conversation(portal, CLAIRE, "ins-wait")
    slot = await new_slot(portal, "ins-wait")
    before = await portal.snapshot()

    response = await submit(portal, "ins-wait", submission(slot["slot_id"]))

    assert response.status_code == 409
    assert response.json()["error"] == "certificate_not_received"
    assert "PDF" in response.json()["message"]
    assert await portal.snapshot() == before


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"valid_until": "1er janvier 2020"}, "date_in_past", "valid_until"),
        ({"valid_until": "31/02/2030"}, "invalid_date", "valid_until"),
        ({"insurer": " "}, "invalid_insurer", "insurer"),
        ({"insurer": ""}, "missing_field", "insurer"),
        ({"insurer": "?"}, "invalid_insurer", "insurer"),
        ({"policy_number": "#"}, "invalid_policy_number", "policy_number"),
        ({"upload_slot_id": None}, "missing_field", "upload_slot_id"),
        ({"upload_slot_id": "abc"}, "wrong_type", "upload_slot_id"),
    ],
)
async def test_bad_fields_are_refused_in_french_and_change_nothing(
    portal: Portal, changes: dict, code: str, field: str
) -> None:
    await verify_conversation(portal, CLAIRE, "ins-bad")
    slot_id = await uploaded_slot(portal, "ins-bad")
    before = await portal.snapshot()

    response = await submit(portal, "ins-bad", submission(slot_id, **changes))

    assert response.status_code == 400
    assert (response.json()["error"], response.json()["field"]) == (code, field)
    assert response.json()["message"]
    assert await portal.snapshot() == before


async def test_one_update_at_a_time(portal: Portal) -> None:
    await verify_conversation(portal, CLAIRE, "ins-twice")
    first = await submit(portal, "ins-twice", submission(await uploaded_slot(portal, "ins-twice")))
    assert first.status_code == 201

    second = await submit(portal, "ins-twice", submission(await uploaded_slot(portal, "ins-twice")))

    assert second.status_code == 409
    assert second.json()["error"] == "submission_pending"
    assert "48 h" in second.json()["message"]
    assert len(await certificates_of_dupont(portal.sessions)) == 2  # on file + one pending


async def test_two_updates_sent_at_once_make_one_submission(portal: Portal) -> None:
    await verify_conversation(portal, CLAIRE, "ins-race")
    slots = [await uploaded_slot(portal, "ins-race") for _ in range(2)]

    responses = await asyncio.gather(
        *(submit(portal, "ins-race", submission(slot_id)) for slot_id in slots)
    )

    assert sorted(r.status_code for r in responses) == [201, 409]
    pending = [
        c
        for c in await certificates_of_dupont(portal.sessions)
        if c.status == CertificateStatus.PENDING
    ]
    assert len(pending) == 1


async def test_a_certificate_file_serves_once(portal: Portal) -> None:
    await verify_conversation(portal, CLAIRE, "ins-reuse")
    slot_id = await uploaded_slot(portal, "ins-reuse")
    assert (await submit(portal, "ins-reuse", submission(slot_id))).status_code == 201
    async with portal.sessions.begin() as session:  # staff refuse it
        await session.execute(
            update(InsuranceCertificate)
            .where(InsuranceCertificate.upload_slot_id == slot_id)
            .values(status=CertificateStatus.REJECTED)
        )

    again = await submit(portal, "ins-reuse", submission(slot_id))

    assert (again.status_code, again.json()["error"]) == (409, "certificate_already_used")


async def test_another_households_file_or_a_rib_link_is_not_a_certificate(portal: Portal) -> None:
    await verify_conversation(portal, NGUYEN, "ins-other")
    nguyen_slot = await uploaded_slot(portal, "ins-other")
    await verify_conversation(portal, CLAIRE, "ins-mine")
    rib = (
        await portal.api(
            "/api/v1/uploads", {"purpose": "rib", "kinds": ["pdf"]}, conversation_id="ins-mine"
        )
    ).json()
    await send_file(portal, rib, certificate_pdf())

    for slot_id in (nguyen_slot, rib["slot_id"], 999_999):
        response = await submit(portal, "ins-mine", submission(slot_id))
        assert (response.status_code, response.json()["error"]) == (400, "certificate_not_found")


async def test_the_certificate_must_be_a_pdf(portal: Portal) -> None:
    await verify_conversation(portal, CLAIRE, "ins-png")
    slot = await new_slot(portal, "ins-png", kinds=("pdf", "image"))
    await send_file(portal, slot, png_image(), name="attestation.png")

    response = await submit(portal, "ins-png", submission(slot["slot_id"]))

    assert (response.status_code, response.json()["error"]) == (400, "certificate_not_pdf")


# --------------------------------------------------------------------------- insurers


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("maif", "MAIF"),
        ("Macif", "MACIF"),
        ("La Matmut", "Matmut"),
        ("AXA Assurances", "AXA"),
        ("allianz", "Allianz"),
        ("credit agricole", "Crédit Agricole Assurances"),
        ("Pacifica", "Crédit Agricole Assurances"),
        ("SOCIÉTÉ GÉNÉRALE", "Société Générale Assurances"),
        ("groupama", "Groupama"),
        ("Caisse d'Épargne", "BPCE Assurances"),
        ("  Mutuelle   des Vosges ", "Mutuelle des Vosges"),
        ("Leocare", "Leocare"),
    ],
)
def test_insurers_from_the_list_or_typed_freely(typed: str, stored: str) -> None:
    assert normalise_insurer(typed) == stored


@pytest.mark.parametrize("typed", ["", "  ", "-", "x" * 121])
def test_an_insurer_must_be_named(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        normalise_insurer(typed)
    assert refused.value.code == "invalid_insurer"


def test_the_list_offers_the_common_french_home_insurers() -> None:
    expected = {"MAIF", "MACIF", "MAAF", "Matmut", "AXA", "Allianz", "Groupama", "GMF"}
    assert expected <= set(INSURERS)
    assert {"Crédit Agricole Assurances", "Société Générale Assurances"} <= set(INSURERS)
    assert all(normalise_insurer(name) == name for name in INSURERS)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("p-000123", "P-000123"), (" AB 12 345 ", "AB 12 345"), ("123/456.78", "123/456.78")],
)
def test_policy_numbers_are_tidied(typed: str, stored: str) -> None:
    assert insurance.normalise_policy_number(typed) == stored


@pytest.mark.parametrize("typed", ["", "A", "AB", "P-12é", "<script>", "1" * 41])
def test_implausible_policy_numbers_are_refused(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        insurance.normalise_policy_number(typed)
    assert (refused.value.code, refused.value.field) == ("invalid_policy_number", "policy_number")


# --------------------------------------------------------------------------- reminders


async def reminders(sessions: sessionmaker, settings: Settings, today: date) -> int:
    async with sessions.begin() as session:
        return await insurance.send_expiry_reminders(
            session=session, settings=settings, today=today
        )


async def reminder_emails(sessions: sessionmaker) -> list:
    return [e for e in await outbox(sessions) if e.template == "insurance_expiry_reminder"]


async def test_dupont_is_reminded_once_before_expiry(
    sessions: sessionmaker, portal_settings: Settings
) -> None:
    today = date.today()

    assert await reminders(sessions, portal_settings, today) == 1
    assert await reminders(sessions, portal_settings, today) == 0
    assert await reminders(sessions, portal_settings, today + timedelta(days=1)) == 0

    (email,) = await reminder_emails(sessions)
    expires = format_french_date(today + timedelta(days=10))
    assert email.to_address == CLAIRE
    assert expires in email.subject
    body = words(email.text_body)
    assert "dans 10 jours" in body and "MAIF" in body and "P-000123" in body
    assert "MON DOSSIER" in body and "PDF" in body and "48 h" in body


async def test_a_second_reminder_a_week_before(
    sessions: sessionmaker, portal_settings: Settings
) -> None:
    today = date.today()
    assert await reminders(sessions, portal_settings, today) == 1  # 10 days left: 30-day notice
    assert await reminders(sessions, portal_settings, today + timedelta(days=3)) == 1  # 7 left
    assert await reminders(sessions, portal_settings, today + timedelta(days=5)) == 0
    assert len(await reminder_emails(sessions)) == 2


async def test_a_job_that_missed_days_sends_one_reminder(
    sessions: sessionmaker, portal_settings: Settings
) -> None:
    assert await reminders(sessions, portal_settings, date.today() + timedelta(days=8)) == 1
    assert await reminders(sessions, portal_settings, date.today() + timedelta(days=9)) == 0
    (email,) = await reminder_emails(sessions)
    assert "dans 2 jours" in words(email.text_body)


async def test_no_reminder_once_an_update_is_waiting_for_staff(
    sessions: sessionmaker, portal_settings: Settings
) -> None:
    dupont = await household_id(sessions, DUPONT_NUMBER)
    async with sessions.begin() as session:
        session.add(
            InsuranceCertificate(
                household_id=dupont,
                insurer="MAIF",
                policy_number="P-998877",
                valid_until=next_year_end(),
                status=CertificateStatus.PENDING,
            )
        )
    assert await reminders(sessions, portal_settings, date.today()) == 0


async def test_no_reminder_for_an_expired_certificate_or_a_household_that_left(
    sessions: sessionmaker, portal_settings: Settings
) -> None:
    assert await reminders(sessions, portal_settings, date.today() + timedelta(days=11)) == 0
    async with sessions.begin() as session:
        await session.execute(
            update(Household)
            .where(Household.client_number == DUPONT_NUMBER)
            .values(move_out_date=date.today() - timedelta(days=1))
        )
    assert await reminders(sessions, portal_settings, date.today()) == 0


async def test_an_accepted_newer_certificate_replaces_the_old_one(
    sessions: sessionmaker, portal_settings: Settings
) -> None:
    dupont = await household_id(sessions, DUPONT_NUMBER)
    async with sessions.begin() as session:
        session.add(
            InsuranceCertificate(
                household_id=dupont,
                insurer="AXA",
                policy_number="AX-1",
                valid_until=next_year_end(),
                status=CertificateStatus.ACCEPTED,
            )
        )
    assert await reminders(sessions, portal_settings, date.today()) == 0
    async with sessions() as session:
        current = await insurance.current_certificate(session=session, household_id=dupont)
    assert current.insurer == "AXA"


@pytest.mark.parametrize(
    ("days_left", "threshold"),
    [(45, None), (31, None), (30, 30), (10, 30), (8, 30), (7, 7), (1, 7), (0, 7), (-1, None)],
)
def test_reminder_thresholds(days_left: int, threshold: int | None) -> None:
    today = date(2026, 11, 26)
    valid_until = today + timedelta(days=days_left)
    assert insurance.reminder_threshold(valid_until, today=today, days_before=(30, 7)) == threshold


async def test_the_database_itself_holds_one_pending_update_per_household(
    sessions: sessionmaker,
) -> None:
    dupont = await household_id(sessions, DUPONT_NUMBER)

    def pending(policy: str) -> InsuranceCertificate:
        return InsuranceCertificate(
            household_id=dupont,
            insurer="MAIF",
            policy_number=policy,
            valid_until=next_year_end(),
            status=CertificateStatus.PENDING,
        )

    async with sessions.begin() as session:
        session.add(pending("P-1"))
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            session.add(pending("P-2"))
    async with sessions.begin() as session:  # decided ones do not count
        session.add_all([pending("P-3"), pending("P-4")])
        for certificate in session.new:
            certificate.status = CertificateStatus.REJECTED
