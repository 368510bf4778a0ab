"""End-to-end takeover in two real browsers: a tenant on the website widget (socket.io) asks for
a person; an agent logs in to the staff console, takes the conversation over (the bot pauses),
sees the tenant's next message arrive live, replies (the widget receives it over socket.io),
then hands back and the bot answers again.

Chromium is Debian's (``apt-get install -y chromium``), driven headless by Playwright.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from bot.staff.takeover.rasa_api import RasaClient
from tests.e2e.conftest import Assistant, run_in_own_loop
from tests.e2e.staff import log_in, new_agent
from tests.e2e.test_widget_browser import (
    bot_texts,
    conversation_id,
    open_widget,
    say,
    wait_for_reply,
)

pytestmark = pytest.mark.e2e

#: The agent's page polls every 2 s; a turn of the tenant goes through Rasa first.
LIVE_TIMEOUT_MS = 15_000
STAFF_REPLY = "Bonjour, je suis Bruno, conseiller. Je regarde votre dossier."


def tracker_events(assistant: Assistant, sender: str) -> list[dict]:
    tracker = assistant.http.get(
        f"{assistant.rasa}/conversations/{sender}/tracker",
        params={"token": assistant.settings.rasa_api_token},
    )
    tracker.raise_for_status()
    return tracker.json()["events"]


def send_without_answer(page: Page, message: str) -> None:
    box = page.get_by_role("textbox", name="Votre message")
    box.fill(message)
    box.press("Enter")
    expect(page.locator(".aw-msg.aw-user").last).to_contain_text(message)


def test_an_agent_takes_over_a_widget_conversation_replies_and_hands_back(
    assistant: Assistant, browser: Browser, tmp_path: Path
) -> None:
    agent_email = new_agent(assistant, "Bruno Conseiller")
    tenant_context = browser.new_context(locale="fr-FR")
    agent_context = browser.new_context(locale="fr-FR")
    try:
        # The tenant asks for a person on the website widget.
        tenant = tenant_context.new_page()
        open_widget(tenant, assistant)
        say(tenant, "je veux parler à un conseiller", "votre demande est transmise à l'équipe")
        sender = conversation_id(tenant)

        # The agent finds it in the queue and takes it.
        agent = agent_context.new_page()
        problems: list[str] = []
        agent.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        log_in(agent, assistant, agent_email, landing="/staff/reprises")
        row = agent.get_by_role("row").filter(has_text=sender)
        expect(row).to_contain_text("a demandé un conseiller")
        expect(row).to_contain_text("site web (widget)")
        row.get_by_role("button", name=f"Prendre la conversation {sender}").click()
        expect(agent.get_by_text("Vous tenez cette conversation")).to_be_visible()
        expect(agent.locator("#etat-assistant")).to_contain_text("L'assistant est en pause")

        # The paused bot does not answer; the message appears on the agent's page by itself.
        seen = len(bot_texts(tenant))
        question = "Mon radiateur ne chauffe plus depuis hier soir"
        send_without_answer(tenant, question)
        feed = agent.locator("#fil")
        expect(feed.locator(".line-tenant").last).to_contain_text(question, timeout=LIVE_TIMEOUT_MS)
        tenant.wait_for_timeout(2_000)
        assert bot_texts(tenant)[seen:] == []
        events = tracker_events(assistant, sender)
        asked = max(i for i, e in enumerate(events) if e.get("text") == question)
        assert [e for e in events[asked:] if e["event"] == "bot"] == []

        # The agent's reply reaches the tenant over socket.io.
        agent.get_by_label("Votre réponse au locataire").fill(STAFF_REPLY)
        agent.get_by_role("button", name="Envoyer").click()
        expect(agent.get_by_text("Votre message a été envoyé.")).to_be_visible()
        wait_for_reply(tenant, seen, STAFF_REPLY)
        expect(feed.locator(".line-staff").last).to_contain_text(STAFF_REPLY)

        # Handed back, the bot answers the next message again.
        agent.get_by_role("button", name="Rendre la main à l'assistant").click()
        expect(agent.get_by_text("La conversation est rendue à l'assistant")).to_be_visible()
        say(tenant, "merci beaucoup", "Avec plaisir")
        agent.screenshot(path=tmp_path / "takeover-agent.png", full_page=True)
        assert not [p for p in problems if "Content Security Policy" in p], problems
        assert problems == []
    finally:
        tenant_context.close()
        agent_context.close()


def test_on_the_rest_channel_a_staff_message_is_kept_but_cannot_be_delivered(
    assistant: Assistant,
) -> None:
    """REST answers only within the tenant's own request: Rasa (``output_channel=rest``)
    finds no output channel for it and collects the message where nobody reads it."""
    sender = f"rest:takeover-{secrets.token_hex(4)}"
    assert "transmise à l'équipe" in assistant.say_text(sender, "je veux parler à un conseiller")

    async def take_over_and_reply() -> None:
        rasa = RasaClient(assistant.settings.rasa_api_url, assistant.settings.rasa_api_token)
        try:
            await rasa.pause(sender)
            await rasa.send_staff_message(
                sender, "Message du conseiller", staff_id=1, channel="rest"
            )
        finally:
            await rasa.aclose()

    run_in_own_loop(take_over_and_reply())

    assert assistant.say(sender, "vous êtes là ?") == []  # paused, and the message is not here
    staff_messages = [
        event["text"]
        for event in tracker_events(assistant, sender)
        if event["event"] == "bot" and (event.get("metadata") or {}).get("sent_by") == "staff"
    ]
    assert staff_messages == ["Message du conseiller"]  # kept in the transcript only
