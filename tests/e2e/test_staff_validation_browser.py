"""End-to-end in a real browser: a staff member logs in to the console of the running portal,
opens the validation queue, looks at a tenant's insurance certificate and accepts it; the
tenant's email arrives in the dev mailbox.

The household, its pending submission and the staff account are this test's own, written to
the e2e portal database (the demo tenants belong to other tests). Chromium is Debian's, driven
headless by Playwright with the widget test's launch options.
"""

from __future__ import annotations

import re
import secrets
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from bot.policy.french_dates import today_in_france
from bot.portal.models import AccountStatus, CertificateStatus, InsuranceCertificate
from bot.portal.services import insurance, uploads
from bot.portal.services.demo import _account, _household, _lease
from tests.e2e.conftest import Assistant
from tests.e2e.staff import in_e2e_database, log_in, new_agent
from tests.portal.test_uploads import pdf_file

pytestmark = pytest.mark.e2e


def pending_certificate(assistant: Assistant) -> tuple[str, str, int, bytes]:
    """A household with an active account whose certificate waits for staff, as the chat
    leaves it: (client number, tenant email, certificate id, the PDF sent)."""
    number = f"{secrets.randbelow(10**8):08d}"
    email = f"assurance.{number}@example.org"
    pdf = pdf_file(f"Attestation d'assurance habitation {number}")

    async def create(session) -> tuple[int, int, str]:  # type: ignore[no-untyped-def]
        household = _household(number, "Lemoine", "12 rue des Validations, 67000 Strasbourg")
        household.leases = [_lease(f"BAIL-{number}-1", "Appartement", "510.00")]
        household.accounts = [_account(email, AccountStatus.ACTIVE)]
        session.add(household)
        await session.flush()
        slot, link = await uploads.create_upload_slot(
            session=session,
            settings=assistant.settings,
            household_id=household.id,
            purpose=insurance.UPLOAD_PURPOSE,
            kinds=frozenset({"pdf"}),
        )
        return household.id, slot.id, link

    household_id, slot_id, link = in_e2e_database(assistant, create)
    # The tenant sends the PDF from the page the upload link opens.
    sent = assistant.http.post(link, files={"fichier": ("attestation.pdf", pdf, "application/pdf")})
    assert sent.status_code == 200, sent.text

    async def submit(session) -> int:  # type: ignore[no-untyped-def]
        certificate = await insurance.submit(
            session=session,
            settings=assistant.settings,
            household_id=household_id,
            insurer="Macif",
            policy_number="HAB-7788",
            valid_until=date(today_in_france().year + 1, 6, 30),
            upload_slot_id=slot_id,
        )
        return certificate.id

    return number, email, in_e2e_database(assistant, submit), pdf


def certificate_status(assistant: Assistant, certificate_id: int) -> CertificateStatus:
    async def read(session) -> CertificateStatus:  # type: ignore[no-untyped-def]
        return await session.scalar(
            select(InsuranceCertificate.status).where(InsuranceCertificate.id == certificate_id)
        )

    return in_e2e_database(assistant, read)


def test_staff_accept_a_certificate_and_the_tenant_is_told(
    assistant: Assistant, browser: Browser, tmp_path: Path
) -> None:
    staff_email = new_agent(assistant, "Agent de validation")
    number, tenant_email, certificate_id, pdf = pending_certificate(assistant)
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        log_in(page, assistant, staff_email, landing="/staff/validations")

        # The queue: this household's certificate, with its deadline (48 h, not yet overdue).
        row = page.get_by_role("row").filter(has_text=f"{number} · Lemoine")
        expect(row).to_contain_text("MACIF, police HAB-7788")
        expect(row).to_contain_text(re.compile(r"Reste 1 j 23 h|Reste 1 j 22 h"))
        page.screenshot(path=tmp_path / "staff-validation-queue.png", full_page=True)
        row.get_by_role("link", name="Assurance habitation").click()

        # The detail page shows the PDF inline; the link opens it in a new tab.
        expect(page.get_by_role("heading", level=1)).to_contain_text(f"foyer {number}")
        document = page.locator("iframe.document")
        expect(document).to_have_attribute(
            "src", f"/staff/validations/assurance/{certificate_id}/attestation"
        )
        opened = page.request.get(f"{assistant.portal}{document.get_attribute('src')}")
        assert opened.status == 200 and opened.body() == pdf
        assert opened.headers["content-type"] == "application/pdf"
        assert opened.headers["content-disposition"].startswith("inline;")
        assert opened.headers["x-content-type-options"] == "nosniff"
        with context.expect_page() as new_tab:
            page.get_by_role("link", name="Ouvrir l'attestation dans un nouvel onglet").click()
        tab = new_tab.value
        tab.wait_for_load_state()
        assert tab.url.endswith(f"/assurance/{certificate_id}/attestation")
        tab.close()
        page.wait_for_timeout(1500)  # the PDF viewer draws on its own time; for the screenshot
        page.screenshot(path=tmp_path / "staff-validation-certificate.png", full_page=True)

        page.get_by_role("button", name="Accepter l'attestation").click()

        expect(page).to_have_url(f"{assistant.portal}/staff/validations?fait=accepte")
        expect(page.get_by_role("status")).to_contain_text("L'attestation est acceptée")
        expect(page.get_by_role("row").filter(has_text=number)).to_have_count(0)
        page.screenshot(path=tmp_path / "staff-validation-done.png", full_page=True)
    finally:
        context.close()

    assert certificate_status(assistant, certificate_id) == CertificateStatus.ACCEPTED
    email = assistant.wait_for_email(tenant_email, "Votre assurance habitation est à jour")
    assert "HAB-7788" in email["text"] and "MACIF" in email["text"]
    assert (tmp_path / "staff-validation-done.png").stat().st_size > 0
