"""Validation queues: insurance certificates and direct-debit requests waiting for staff, oldest
first with their 48 h deadline; the files tenants sent, shown inline to staff only; decisions
(accept, reject with a reason, ask for more information; the signed mandate received) that
change the portal in one transaction, email the tenant, are audited and cannot be made twice."""

from __future__ import annotations

import asyncio
import re
from datetime import date, timedelta
from html import unescape

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload, sessionmaker

from bot.errors import Conflict, InvalidInput
from bot.policy.french_dates import today_in_france
from bot.portal.models import (
    CertificateStatus,
    DirectDebitRequest,
    DirectDebitStatus,
    Household,
    InsuranceCertificate,
    Lease,
    OutboxEmail,
    StaffAccount,
    utcnow,
)
from bot.portal.services import direct_debit, insurance, uploads
from bot.settings import Settings
from bot.staff.errors import StaffNotAllowed
from bot.staff.services import (
    certificate_decisions,
    decisions,
    direct_debit_decisions,
    validation_queue,
)
from bot.staff.web.validations import time_left
from tests.portal.support import Mailbox, Portal, outbox, words
from tests.portal.test_uploads import image_file, pdf_file
from tests.staff.support import FORM_EXPIRED, HTML, LOGIN, StaffBrowser, audit_entries

DUPONT, NGUYEN, MARTIN = "87654321", "11223344", "12345678"
CLAIRE, MINH = "claire.dupont@example.org", "minh.nguyen@example.org"
IBAN = "FR7630006000011234567890189"
QUEUE = "/staff/validations"
ALREADY_DECIDED = "déjà été traitée"


# --------------------------------------------------------------------------- data


async def household_id(sessions: sessionmaker, client_number: str) -> int:
    async with sessions() as session:
        return await session.scalar(
            select(Household.id).where(Household.client_number == client_number)
        )


async def received_slot(
    session, settings: Settings, household: int, purpose: str, data: bytes, name: str
) -> int:
    """An upload link of the household through which the tenant sent ``data``."""
    kinds = frozenset({"pdf"}) if purpose == insurance.UPLOAD_PURPOSE else direct_debit.RIB_KINDS
    slot, url = await uploads.create_upload_slot(
        session=session, settings=settings, household_id=household, purpose=purpose, kinds=kinds
    )
    await uploads.receive_upload(
        session=session,
        settings=settings,
        raw_token=url.rsplit("/", 1)[1],
        filename=name,
        data=data,
    )
    return slot.id


async def submit_certificate(
    portal: Portal,
    client_number: str = DUPONT,
    *,
    hours_ago: float = 0,
    policy: str = "P-998877",
    pdf: bytes | None = None,
) -> int:
    """The tenant's submission, as the chat makes it, received ``hours_ago``."""
    household = await household_id(portal.sessions, client_number)
    async with portal.sessions.begin() as session:
        slot_id = await received_slot(
            session,
            portal.settings,
            household,
            insurance.UPLOAD_PURPOSE,
            pdf or pdf_file(f"Attestation {policy}"),
            "attestation.pdf",
        )
        certificate = await insurance.submit(
            session=session,
            settings=portal.settings,
            household_id=household,
            insurer="maif",
            policy_number=policy,
            valid_until=date(today_in_france().year + 1, 12, 31),
            upload_slot_id=slot_id,
        )
        received = utcnow() - timedelta(hours=hours_ago)
        certificate.created_at = certificate.submitted_at = received
    return certificate.id


async def request_direct_debit(
    portal: Portal, *, hours_ago: float = 0, day: int = 10, rib: bytes | None = None
) -> int:
    """The Nguyen household (two leases, debited on the 7th) asks for a new direct debit."""
    household = await household_id(portal.sessions, NGUYEN)
    async with portal.sessions.begin() as session:
        slot_id = await received_slot(
            session,
            portal.settings,
            household,
            direct_debit.RIB_PURPOSE,
            rib or pdf_file(),
            "rib.png" if rib else "rib.pdf",
        )
        request = await direct_debit.create_request(
            session=session,
            settings=portal.settings,
            household_id=household,
            iban=IBAN,
            bank_name="Banque des Tests",
            debit_day=day,
            holder_name="Minh Nguyen",
            address="5 place des Halles, 67000 Strasbourg",
            rib_slot_id=slot_id,
        )
        request.created_at = utcnow() - timedelta(hours=hours_ago)
    return request.id


async def certificate(sessions: sessionmaker, certificate_id: int) -> InsuranceCertificate:
    async with sessions() as session:
        return await session.get(InsuranceCertificate, certificate_id)


async def certificates_of(sessions: sessionmaker, client_number: str) -> dict[int, str]:
    household = await household_id(sessions, client_number)
    async with sessions() as session:
        rows = await session.execute(
            select(InsuranceCertificate.id, InsuranceCertificate.status).where(
                InsuranceCertificate.household_id == household
            )
        )
        return {row.id: row.status.value for row in rows}


async def debit_request(sessions: sessionmaker, request_id: int) -> DirectDebitRequest:
    async with sessions() as session:
        return await session.scalar(
            select(DirectDebitRequest)
            .where(DirectDebitRequest.id == request_id)
            .options(selectinload(DirectDebitRequest.leases))
        )


async def debit_days(sessions: sessionmaker, client_number: str) -> list[int | None]:
    household = await household_id(sessions, client_number)
    async with sessions() as session:
        return list(
            await session.scalars(
                select(Lease.direct_debit_day)
                .where(Lease.household_id == household)
                .order_by(Lease.id)
            )
        )


async def emails_with(sessions: sessionmaker, template: str) -> list[OutboxEmail]:
    return [email for email in await outbox(sessions) if email.template == template]


def certificate_url(certificate_id: int, action: str = "") -> str:
    return f"{QUEUE}/assurance/{certificate_id}" + (f"/{action}" if action else "")


def debit_url(request_id: int, action: str = "") -> str:
    return f"{QUEUE}/prelevement/{request_id}" + (f"/{action}" if action else "")


# --------------------------------------------------------------------------- pure rules


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(hours=47, minutes=59), "1 j 23 h"),
        (timedelta(hours=5, minutes=7, seconds=30), "5 h 07"),
        (timedelta(minutes=12), "12 min"),
        (timedelta(seconds=20), "0 min"),
        (-timedelta(hours=2, minutes=1), "2 h 01"),  # overdue: how late
        (-timedelta(days=3, hours=1), "3 j 1 h"),
    ],
)
def test_time_left_reads_at_a_glance(delta: timedelta, text: str) -> None:
    assert time_left(delta) == text


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Attestation illisible.", "Attestation illisible."),
        ("  Page 2 manquante  \r\n  merci  ", "Page 2 manquante\nmerci"),
        ("a\n\n\n\n\nb", "a\n\nb"),
        ("sans\x00 contrôle\x1b", "sans contrôle"),
        ("", None),
        ("   \n\t ", None),
        ("x" * 501, None),
    ],
)
def test_a_reason_is_required_and_tidied(typed: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(InvalidInput) as refused:
            decisions.clean_note(typed, field="motif")
        assert refused.value.field == "motif"
    else:
        assert decisions.clean_note(typed, field="motif") == expected


# --------------------------------------------------------------------------- the queue


async def test_the_queue_lists_both_kinds_oldest_first_with_their_deadline(
    portal: Portal, agent: StaffBrowser
) -> None:
    dupont = await submit_certificate(portal, DUPONT, hours_ago=1)
    mandate = await request_direct_debit(portal, hours_ago=50)
    martin = await submit_certificate(portal, MARTIN, hours_ago=30)
    decided = await submit_certificate(portal, "55667788", hours_ago=60)
    async with portal.sessions.begin() as session:
        await session.execute(
            update(InsuranceCertificate)
            .where(InsuranceCertificate.id == decided)
            .values(status=CertificateStatus.REJECTED)
        )

    async with portal.sessions() as session:
        queue = await validation_queue.validation_queue(session=session)

    assert [(item.kind, item.id) for item in queue] == [
        ("direct_debit", mandate),
        ("insurance", martin),
        ("insurance", dupont),
    ]
    assert [item.overdue for item in queue] == [True, False, False]
    for item in queue:
        assert item.deadline == item.created_at + timedelta(hours=48)
    late, martin_item, dupont_item = queue
    assert timedelta(hours=-2, minutes=-1) < late.remaining < timedelta(hours=-2)
    assert (martin_item.client_number, martin_item.surname) == (MARTIN, "Martin")
    assert timedelta(hours=46, minutes=59) < dupont_item.remaining <= timedelta(hours=47)

    page = await agent.client.get(QUEUE)

    assert page.status_code == 200
    rows = re.findall(r'<tr( class="row-overdue")?>\s*<th scope="row"><a href="([^"]+)"', page.text)
    assert rows == [
        (' class="row-overdue"', debit_url(mandate)),
        ("", certificate_url(martin)),
        ("", certificate_url(dupont)),
    ]
    assert re.search(r'class="overdue">En retard de 2 h 0\d<', page.text)
    assert "Reste 1 j 22 h" in page.text and re.search(r"Reste 17 h 5\d<", page.text)
    assert f"{NGUYEN} · Nguyen" in page.text and f"{DUPONT} · Dupont" in page.text
    assert "MAIF, police P-998877" in page.text and "FR76 **** " in page.text
    assert IBAN not in page.text  # the queue shows the IBAN masked
    assert certificate_url(decided) not in page.text


async def test_an_empty_queue_says_so(portal: Portal, admin: StaffBrowser) -> None:
    page = await admin.client.get(QUEUE)

    assert page.status_code == 200
    assert "Aucune demande en attente de validation." in page.text
    assert 'aria-current="page">Validations<' in page.text


# --------------------------------------------------------------------------- detail pages


async def test_the_certificate_page_shows_the_submission_next_to_the_one_in_force(
    portal: Portal, agent: StaffBrowser
) -> None:
    certificate_id = await submit_certificate(portal, DUPONT, hours_ago=50)

    page = await agent.client.get(certificate_url(certificate_id))

    assert page.status_code == 200
    text = words(page.text)
    assert f"foyer {DUPONT} (Dupont)" in text and CLAIRE in text
    assert "MAIF" in text and "P-998877" in text
    assert "police P-000123" in text  # the demo certificate on file, replaced if accepted
    assert 'class="overdue">en retard de 2 h' in text
    pdf = certificate_url(certificate_id, "attestation")
    assert f'<iframe class="document" src="{pdf}"' in page.text
    for action in ("acceptation", "refus", "complement"):
        form = re.search(
            rf'<form method="post" action="{certificate_url(certificate_id, action)}"[^>]*>\s*'
            r'<input type="hidden" name="csrf" value="[^"]+">',
            page.text,
        )
        assert form, action


async def test_the_direct_debit_page_shows_the_mandate_to_compare_with_the_paper(
    portal: Portal, agent: StaffBrowser
) -> None:
    request_id = await request_direct_debit(portal, rib=image_file())
    reference = (await debit_request(portal.sessions, request_id)).mandate_reference

    page = await agent.client.get(debit_url(request_id))

    assert page.status_code == 200
    text = words(page.text)
    assert reference in text
    assert "FR76 3000 6000 0112 3456 7890 189" in text  # in full, as printed on the RIB
    assert "Minh Nguyen" in text and "5 place des Halles, 67000 Strasbourg" in text
    assert "le 10 du mois" in text and "prélevé actuellement le 7" in text
    assert f'<img class="document" src="{debit_url(request_id, "rib")}"' in page.text
    assert debit_url(request_id, "activation") in page.text


async def test_a_certificate_on_file_or_unknown_has_no_page(
    portal: Portal, agent: StaffBrowser
) -> None:
    on_file = next(iter(await certificates_of(portal.sessions, DUPONT)))

    for path in (
        certificate_url(on_file),
        certificate_url(on_file, "attestation"),
        certificate_url(9999),
        debit_url(9999),
        debit_url(9999, "rib"),
    ):
        assert (await agent.client.get(path)).status_code == 404, path


# --------------------------------------------------------------------------- files


async def test_the_certificate_pdf_is_shown_inline_to_staff_only(
    portal: Portal, agent: StaffBrowser
) -> None:
    sent = pdf_file("Attestation P-424242")
    certificate_id = await submit_certificate(portal, DUPONT, pdf=sent)
    path = certificate_url(certificate_id, "attestation")

    shown = await agent.client.get(path)

    assert shown.status_code == 200
    assert shown.headers["content-type"] == "application/pdf"
    assert shown.headers["content-disposition"] == (
        f'inline; filename="attestation-{certificate_id}.pdf"'
    )
    assert shown.headers["x-content-type-options"] == "nosniff"
    assert shown.headers["cache-control"] == "no-store"
    assert shown.headers["content-security-policy"] == (
        "default-src 'none'; frame-ancestors 'self'; sandbox"
    )
    assert shown.content == sent

    anonymous = await portal.client.get(path, headers=HTML)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith(LOGIN)
    assert b"%PDF" not in anonymous.content


async def test_the_rib_keeps_its_detected_type(portal: Portal, agent: StaffBrowser) -> None:
    request_id = await request_direct_debit(portal, rib=image_file())

    shown = await agent.client.get(debit_url(request_id, "rib"))

    assert shown.status_code == 200
    assert shown.headers["content-type"] == "image/png"
    assert shown.headers["content-disposition"] == f'inline; filename="rib-{request_id}.png"'
    assert shown.headers["x-content-type-options"] == "nosniff"
    assert shown.content == image_file()
    assert (await portal.client.get(debit_url(request_id, "rib"))).status_code == 303


# --------------------------------------------------------------------------- insurance decisions


async def test_accepting_puts_the_certificate_in_force_and_tells_the_tenant(
    portal: Portal, staff: dict, agent: StaffBrowser, mailbox: Mailbox
) -> None:
    (on_file,) = await certificates_of(portal.sessions, DUPONT)
    certificate_id = await submit_certificate(portal, DUPONT)

    response = await agent.post(certificate_url(certificate_id, "acceptation"))

    assert response.status_code == 303
    assert response.headers["location"] == f"{QUEUE}?fait=accepte"
    accepted = await certificate(portal.sessions, certificate_id)
    assert accepted.status == CertificateStatus.ACCEPTED
    assert accepted.decided_by_id == staff["agent"].id
    assert utcnow() - timedelta(minutes=1) < accepted.decided_at <= utcnow()
    assert await certificates_of(portal.sessions, DUPONT) == {
        on_file: "superseded",
        certificate_id: "accepted",
    }
    async with portal.sessions() as session:
        household = await household_id(portal.sessions, DUPONT)
        in_force = await insurance.current_certificate(session=session, household_id=household)
    assert in_force.id == certificate_id  # the prefill and the reminders follow it
    email = await mailbox.wait_for(to=CLAIRE, subject="Votre assurance habitation est à jour")
    assert "P-998877" in email.text and "MAIF" in email.text
    (entry,) = await audit_entries(portal.sessions, "insurance_accepted")
    assert entry.staff_id == staff["agent"].id
    assert (entry.target_type, entry.target_id) == ("insurance_certificate", str(certificate_id))
    assert entry.details == {"client_number": DUPONT, "tenant_emailed": True}
    page = await agent.client.get(response.headers["location"])
    assert "L'attestation est acceptée" in page.text
    assert certificate_url(certificate_id) not in page.text  # out of the queue


async def test_a_reason_is_required_to_reject(
    portal: Portal, agent: StaffBrowser, mailbox: Mailbox
) -> None:
    certificate_id = await submit_certificate(portal, DUPONT)
    before = await portal.snapshot()

    refused = await agent.post(certificate_url(certificate_id, "refus"), {"motif": "  \n "})

    assert refused.status_code == 400
    assert "Indiquez le motif du refus" in refused.text
    assert await portal.snapshot() == before

    reason = "L'attestation ne mentionne pas l'adresse du logement."
    response = await agent.post(certificate_url(certificate_id, "refus"), {"motif": reason})

    assert response.status_code == 303
    assert response.headers["location"] == f"{QUEUE}?fait=refuse"
    rejected = await certificate(portal.sessions, certificate_id)
    assert (rejected.status, rejected.staff_note) == (CertificateStatus.REJECTED, reason)
    (on_file,) = [c for c in await certificates_of(portal.sessions, DUPONT) if c != rejected.id]
    assert (await certificates_of(portal.sessions, DUPONT))[on_file] == "current"  # unchanged
    email = await mailbox.wait_for(to=CLAIRE, subject="n'a pas pu être validée")
    assert reason in words(email.text) and portal.settings.public_base_url in email.text
    (entry,) = await audit_entries(portal.sessions, "insurance_rejected")
    assert entry.details["reason"] == reason


async def test_asking_for_information_lets_the_tenant_send_a_new_submission(
    portal: Portal, agent: StaffBrowser, mailbox: Mailbox
) -> None:
    first = await submit_certificate(portal, DUPONT)

    blank = await agent.post(certificate_url(first, "complement"), {"message": ""})
    assert blank.status_code == 400 and "Indiquez l'information demandée" in unescape(blank.text)

    question = "La date de validité n'apparaît pas sur l'attestation : envoyez la page 2."
    response = await agent.post(certificate_url(first, "complement"), {"message": question})

    assert response.headers["location"] == f"{QUEUE}?fait=complement"
    asked = await certificate(portal.sessions, first)
    assert (asked.status, asked.staff_note) == (CertificateStatus.INFO_REQUESTED, question)
    email = await mailbox.wait_for(to=CLAIRE, subject="information complémentaire")
    assert question in words(email.text)
    (entry,) = await audit_entries(portal.sessions, "insurance_info_requested")
    assert entry.details["message"] == question

    # The tenant answers with a new submission: no longer "already pending", it replaces it.
    second = await submit_certificate(portal, DUPONT, policy="P-998878")
    async with portal.sessions() as session:
        household = await household_id(portal.sessions, DUPONT)
        pending = await insurance.pending_submission(session=session, household_id=household)
        queue = await validation_queue.validation_queue(session=session)
    assert pending.id == second
    assert [item.id for item in queue] == [second]
    page = await agent.client.get(certificate_url(second))
    assert question in words(unescape(page.text))  # the history shows what was asked


async def test_deciding_twice_is_refused_and_changes_nothing(
    portal: Portal, agent: StaffBrowser, new_browser, mailbox: Mailbox
) -> None:
    certificate_id = await submit_certificate(portal, DUPONT)
    other_desk = new_browser()
    assert (await other_desk.login("alice.admin@example.org")).status_code == 303
    assert (await agent.post(certificate_url(certificate_id, "acceptation"))).status_code == 303
    await mailbox.wait_for(to=CLAIRE, subject="est à jour")
    before = await portal.snapshot()

    for browser, action, form in (
        (agent, "acceptation", {}),
        (other_desk, "refus", {"motif": "Trop tard"}),
        (other_desk, "complement", {"message": "Et la page 2 ?"}),
    ):
        response = await browser.post(certificate_url(certificate_id, action), form)
        assert response.status_code == 409, action
        assert ALREADY_DECIDED in response.text
        assert "Bruno Agent" in response.text  # the decision already made, and by whom

    assert await portal.snapshot() == before
    assert len(await emails_with(portal.sessions, "insurance_accepted")) == 1


async def test_two_decisions_at_the_same_moment_make_one(portal: Portal, staff: dict) -> None:
    certificate_id = await submit_certificate(portal, DUPONT)

    async def decide(staff_member: StaffAccount, reason: str | None):
        async with portal.sessions.begin() as session:
            if reason is None:
                return await certificate_decisions.accept_certificate(
                    session=session,
                    settings=portal.settings,
                    certificate_id=certificate_id,
                    staff_id=staff_member.id,
                )
            return await certificate_decisions.reject_certificate(
                session=session,
                settings=portal.settings,
                certificate_id=certificate_id,
                staff_id=staff_member.id,
                reason=reason,
            )

    results = await asyncio.gather(
        decide(staff["agent"], None), decide(staff["admin"], "Illisible"), return_exceptions=True
    )

    assert sorted(type(result).__name__ for result in results) == [
        "Conflict",
        "InsuranceCertificate",
    ]
    (winner,) = [result for result in results if not isinstance(result, Exception)]
    final = await certificate(portal.sessions, certificate_id)
    assert final.status == winner.status
    decisions = [e for e in await outbox(portal.sessions) if e.template != "insurance_received"]
    assert [e.template for e in decisions] == [f"insurance_{winner.status.value}"]
    assert len(await audit_entries(portal.sessions)) == 3  # 2 accounts created, 1 decision


async def test_a_household_without_an_active_account_is_decided_without_email(
    portal: Portal, agent: StaffBrowser
) -> None:
    certificate_id = await submit_certificate(portal, MARTIN)  # Martin never registered

    page = await agent.client.get(certificate_url(certificate_id))
    assert "aucun compte actif" in page.text

    assert (await agent.post(certificate_url(certificate_id, "acceptation"))).status_code == 303

    assert await emails_with(portal.sessions, "insurance_accepted") == []
    (entry,) = await audit_entries(portal.sessions, "insurance_accepted")
    assert entry.details == {"client_number": MARTIN, "tenant_emailed": False}


async def test_a_deactivated_staff_member_cannot_decide(portal: Portal, staff: dict) -> None:
    certificate_id = await submit_certificate(portal, DUPONT)
    async with portal.sessions.begin() as session:
        await session.execute(
            update(StaffAccount).where(StaffAccount.id == staff["agent"].id).values(active=False)
        )

    with pytest.raises(StaffNotAllowed):
        async with portal.sessions.begin() as session:
            await certificate_decisions.accept_certificate(
                session=session,
                settings=portal.settings,
                certificate_id=certificate_id,
                staff_id=staff["agent"].id,
            )

    assert (await certificate(portal.sessions, certificate_id)).status == CertificateStatus.PENDING


# --------------------------------------------------------------------------- direct-debit decisions


async def test_the_signed_mandate_received_activates_the_direct_debit(
    portal: Portal, staff: dict, admin: StaffBrowser, mailbox: Mailbox
) -> None:
    assert await debit_days(portal.sessions, NGUYEN) == [7, 7]
    request_id = await request_direct_debit(portal, day=10)
    reference = (await debit_request(portal.sessions, request_id)).mandate_reference

    response = await admin.post(debit_url(request_id, "activation"))

    assert response.status_code == 303
    assert response.headers["location"] == f"{QUEUE}?fait=active"
    active = await debit_request(portal.sessions, request_id)
    assert active.status == DirectDebitStatus.ACTIVE
    assert active.decided_by_id == staff["admin"].id and active.decided_at is not None
    assert await debit_days(portal.sessions, NGUYEN) == [10, 10]
    email = await mailbox.wait_for(to=MINH, subject="prélèvement automatique est en place")
    text = words(email.text)
    assert reference in text and "le 10 de chaque mois" in text
    assert "FR76 **** **** **** **** ***0 189" in text and IBAN not in email.text
    (entry,) = await audit_entries(portal.sessions, "direct_debit_activated")
    assert (entry.target_type, entry.target_id) == ("direct_debit_request", str(request_id))
    assert entry.details == {"client_number": NGUYEN, "tenant_emailed": True}
    page = await admin.client.get(debit_url(request_id))
    assert "Décision : <strong>actif</strong>" in page.text and "Alice Admin" in page.text
    assert debit_url(request_id, "activation") not in page.text


async def test_a_newer_mandate_for_the_same_leases_supersedes_the_older(
    portal: Portal, agent: StaffBrowser
) -> None:
    first = await request_direct_debit(portal, day=10)
    assert (await agent.post(debit_url(first, "activation"))).status_code == 303
    second = await request_direct_debit(portal, day=2)

    assert (await agent.post(debit_url(second, "activation"))).status_code == 303

    assert (await debit_request(portal.sessions, first)).status == DirectDebitStatus.SUPERSEDED
    assert (await debit_request(portal.sessions, second)).status == DirectDebitStatus.ACTIVE
    assert await debit_days(portal.sessions, NGUYEN) == [2, 2]


async def test_rejecting_a_direct_debit_needs_a_reason_and_keeps_the_leases(
    portal: Portal, agent: StaffBrowser, mailbox: Mailbox
) -> None:
    request_id = await request_direct_debit(portal)
    before = await portal.snapshot()

    blank = await agent.post(debit_url(request_id, "refus"), {"motif": ""})

    assert blank.status_code == 400 and "Indiquez le motif du refus" in blank.text
    assert await portal.snapshot() == before

    reason = "Le RIB original ne correspond pas à l'IBAN du mandat."
    response = await agent.post(debit_url(request_id, "refus"), {"motif": reason})

    assert response.headers["location"] == f"{QUEUE}?fait=refuse"
    rejected = await debit_request(portal.sessions, request_id)
    assert (rejected.status, rejected.staff_note) == (DirectDebitStatus.REJECTED, reason)
    assert await debit_days(portal.sessions, NGUYEN) == [7, 7]
    email = await mailbox.wait_for(to=MINH, subject="n'a pas pu être acceptée")
    assert reason in words(email.text)
    (entry,) = await audit_entries(portal.sessions, "direct_debit_rejected")
    assert entry.details["reason"] == reason


async def test_asking_for_information_lets_the_tenant_make_a_new_request(
    portal: Portal, staff: dict, agent: StaffBrowser, mailbox: Mailbox
) -> None:
    request_id = await request_direct_debit(portal)
    question = "Le mandat reçu n'est pas signé."

    response = await agent.post(debit_url(request_id, "complement"), {"message": question})

    assert response.headers["location"] == f"{QUEUE}?fait=complement"
    asked = await debit_request(portal.sessions, request_id)
    assert (asked.status, asked.staff_note) == (DirectDebitStatus.INFO_REQUESTED, question)
    assert await debit_days(portal.sessions, NGUYEN) == [7, 7]
    email = await mailbox.wait_for(to=MINH, subject="information complémentaire")
    text = words(email.text)
    assert question in text and "24 route de l'Hôpital" in text
    # No longer waiting for a signature: the tenant's new request is accepted.
    newer = await request_direct_debit(portal)
    async with portal.sessions() as session:
        queue = await validation_queue.validation_queue(session=session)
    assert [item.id for item in queue] == [newer]
    with pytest.raises(Conflict):
        async with portal.sessions.begin() as session:
            await direct_debit_decisions.activate_direct_debit(
                session=session,
                settings=portal.settings,
                request_id=request_id,
                staff_id=staff["agent"].id,
            )


async def test_activating_twice_is_refused(
    portal: Portal, agent: StaffBrowser, mailbox: Mailbox
) -> None:
    request_id = await request_direct_debit(portal)
    assert (await agent.post(debit_url(request_id, "activation"))).status_code == 303
    before = await portal.snapshot()

    again = await agent.post(debit_url(request_id, "activation"))
    reject = await agent.post(debit_url(request_id, "refus"), {"motif": "Non signé"})

    assert again.status_code == reject.status_code == 409
    assert ALREADY_DECIDED in again.text
    assert await portal.snapshot() == before


# --------------------------------------------------------------------------- access


async def test_decisions_need_a_login_and_the_form_s_csrf_field(
    portal: Portal, agent: StaffBrowser, mailbox: Mailbox
) -> None:
    certificate_id = await submit_certificate(portal, DUPONT)
    request_id = await request_direct_debit(portal)
    before = await portal.snapshot()

    for path in (
        certificate_url(certificate_id, "acceptation"),
        certificate_url(certificate_id, "refus"),
        certificate_url(certificate_id, "complement"),
        debit_url(request_id, "activation"),
        debit_url(request_id, "refus"),
        debit_url(request_id, "complement"),
    ):
        form = {"motif": "x", "message": "x"}
        anonymous = await portal.client.post(path, data=form, headers=HTML)
        assert anonymous.status_code == 303 and anonymous.headers["location"] == LOGIN, path
        forged = await agent.client.post(path, data={**form, "csrf": "0" * 64})
        assert forged.status_code == 403 and FORM_EXPIRED in forged.text, path

    assert await portal.snapshot() == before
