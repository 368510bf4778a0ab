"""End-to-end in a real browser: a tenant registers through the real Rasa server (REST channel),
then a staff member opens the console's overview and finds that conversation counted: today's
API conversations, the registration started (the form's ``active_loop`` event) and completed
(the ``utter_registration_submitted`` Rasa stored with its ``metadata.utter_action``).

The charts are inline SVG images with a summary; the page asks nothing of another origin.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from bot.policy.french_dates import today_in_france
from tests.e2e.conftest import Assistant
from tests.e2e.staff import log_in, new_agent

pytestmark = pytest.mark.e2e


def figures(page: Page) -> dict[str, int]:
    """Today's API conversations and the registrations started / completed, from the tables
    (read whether their ``<details>`` is open or not)."""
    today = today_in_france().strftime("%d/%m/%Y")
    days = page.get_by_role(
        "table", name=re.compile("Conversations commencées par jour"), include_hidden=True
    )
    if days.count() == 0:  # nothing yet in the period
        api = 0
    else:
        row = days.locator("tr").filter(has=page.locator(f'th:text-is("{today}")'))
        api = int(row.locator("td").nth(3).text_content())  # Site web, Telegram, SMS, API
    flows = page.get_by_role("table", name=re.compile("Démarches"), include_hidden=True)
    if flows.count() == 0:
        return {"api": api, "started": 0, "completed": 0}
    register = flows.locator("tr").filter(has=page.locator('th:text-is("Inscription")'))
    cells = register.locator("td")
    return {
        "api": api,
        "started": int(cells.nth(0).text_content()),
        "completed": int(cells.nth(1).text_content()),
    }


def test_the_overview_counts_a_conversation_held_with_the_real_assistant(
    assistant: Assistant, browser: Browser, tmp_path: Path
) -> None:
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})
    asked: list[str] = []
    try:
        page = context.new_page()
        page.on("request", lambda request: asked.append(request.url))
        log_in(page, assistant, new_agent(assistant, "Louise Responsable"))
        page.get_by_role("link", name="7 jours").click()
        expect(page).to_have_url(f"{assistant.portal}/staff/?jours=7")
        before = figures(page)

        tenant = f"e2e-overview-{uuid.uuid4().hex[:8]}"
        assistant.say(tenant, "bonjour")
        assert "numéro client" in assistant.say_text(
            tenant, "je voudrais m'inscrire sur l'espace locataire"
        )
        # A number no household has: the same reply as for a real one, nothing created.
        assistant.say_text(tenant, "40404040")
        assistant.say_text(tenant, "Durand")
        assert "lien d'activation" in assistant.say_text(tenant, "overview.e2e@example.org")

        page.reload()  # the page brings the index up to date from Rasa's tracker store
        after = figures(page)
        assert after == {
            "api": before["api"] + 1,
            "started": before["started"] + 1,
            "completed": before["completed"] + 1,
        }

        charts = page.locator("svg[role=img]")
        expect(charts.first).to_be_visible()
        assert charts.count() >= 3  # per day, topics, flows (+ the queue when it has items)
        summary = charts.first.get_attribute("aria-label")
        assert re.search(r"\d+ au total \(Site web \d+, Telegram \d+, SMS \d+, API \d+", summary)
        expect(page.get_by_role("link", name="Voir les validations")).to_have_attribute(
            "href", "/staff/validations"
        )
        page.get_by_text("Les chiffres jour par jour").click()  # the same figures, as a table
        expect(page.get_by_role("table", name=re.compile("par jour et par canal"))).to_be_visible()
        screenshot = tmp_path / "staff-overview.png"
        page.screenshot(path=screenshot, full_page=True)
    finally:
        context.close()

    portal = urlsplit(assistant.portal).netloc
    elsewhere = [url for url in asked if urlsplit(url).netloc != portal]
    assert asked and not elsewhere, elsewhere
    assert screenshot.stat().st_size > 10_000
    print(f"staff overview screenshot: {screenshot}")
