"""End-to-end in a real browser: a tenant asks the real Rasa server for a person (REST channel),
then a staff member logs in to the console, finds the conversation with the "handoff" filter,
reads it as a chat with the intents Rasa recognised, tags it and marks it reviewed.

The console reads Rasa's own tracker store (the SQLite file the run command gives Rasa).
Chromium is Debian's, driven headless by Playwright, as in ``test_widget_browser.py``.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import Assistant
from tests.e2e.staff import log_in, new_agent

pytestmark = pytest.mark.e2e


def test_staff_find_read_tag_and_review_a_handoff(
    assistant: Assistant, browser: Browser, tmp_path: Path
) -> None:
    asked, chatted = f"e2e-staff-{uuid.uuid4().hex[:8]}", f"e2e-staff-{uuid.uuid4().hex[:8]}"
    assert assistant.say(asked, "bonjour")
    assert assistant.say(asked, "je veux parler à un conseiller")
    assert assistant.say(chatted, "bonjour")

    context = browser.new_context(locale="fr-FR")
    try:
        page = context.new_page()
        log_in(page, assistant, new_agent(assistant, "Agnès Agent"))
        sections = page.get_by_role("navigation", name="Sections de la console")
        sections.get_by_role("link", name="Conversations").click()
        expect(page.get_by_role("heading", name="Conversations", exact=True)).to_be_visible()
        expect(page.get_by_role("link", name=chatted)).to_be_visible()

        page.get_by_label("Demande de conseiller").select_option("oui")
        page.get_by_role("button", name="Filtrer").click()
        expect(page.get_by_role("link", name=asked)).to_be_visible()
        expect(page.get_by_role("link", name=chatted)).to_have_count(0)
        assert "conseiller=oui" in page.url
        page.screenshot(path=tmp_path / "staff-conversations.png", full_page=True)

        page.get_by_role("link", name=asked).click()
        chat = page.get_by_role("list", name="Messages de la conversation")
        tenant = chat.locator("li.tenant")
        expect(tenant).to_have_count(2)
        expect(tenant.nth(0)).to_contain_text("bonjour")
        expect(tenant.nth(0).locator(".intent")).to_contain_text(re.compile(r"greet · \d+ %"))
        expect(tenant.nth(1)).to_contain_text("je veux parler à un conseiller")
        expect(tenant.nth(1).locator(".intent")).to_have_text(re.compile(r"human_handoff · \d+ %"))
        expect(chat.locator("li.bot").first).to_contain_text("Bonjour")
        expect(chat.locator("li.action")).to_contain_text(["demande transmise à un conseiller"])
        # The tenant's messages sit on the right, the assistant's on the left.
        right = tenant.nth(1).locator(".bubble").bounding_box()
        left = chat.locator("li.bot .bubble").first.bounding_box()
        assert right["x"] > left["x"] + 100

        page.get_by_label("Nouvelle étiquette").fill("rappel agence")
        page.get_by_role("button", name="Ajouter l'étiquette").click()
        expect(page.get_by_role("status")).to_have_text("L'étiquette a été ajoutée.")
        expect(page.locator(".tags .tag")).to_have_text(["rappel-agence"])
        page.get_by_role("button", name="Marquer comme revue").click()
        expect(page.get_by_role("status")).to_have_text("La conversation est marquée comme revue.")
        expect(page.locator("#statut-revue")).to_contain_text("revue (dernière revue par Agnès")
        screenshot = tmp_path / "staff-transcript.png"
        page.screenshot(path=screenshot, full_page=True)

        # Back to the filtered list: the conversation is now tagged and reviewed.
        page.get_by_role("link", name="‹ Retour à la liste").click()
        assert "conseiller=oui" in page.url
        row = page.get_by_role("row").filter(has=page.get_by_role("link", name=asked))
        expect(row).to_contain_text("rappel-agence")
        expect(row).to_contain_text("revue")
    finally:
        context.close()
    assert screenshot.stat().st_size > 10_000
    print(f"staff transcript screenshot: {screenshot}")
