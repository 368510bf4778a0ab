"""End-to-end in a real browser: the chat widget on the portal's home page talks to the real
Rasa server over socket.io. A tenant registers through it, reloads the page and carries on
with the same conversation, then sends an insurance certificate from the widget itself.

Chromium is Debian's (``apt-get install -y chromium``), driven headless by Playwright.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from bot.portal.db import create_engine, session_factory
from bot.portal.models import AccountStatus
from bot.portal.services.demo import _account, _household, _lease
from tests.e2e.conftest import Assistant, run_in_own_loop
from tests.e2e.test_account_flows import emailed_code
from tests.e2e.test_tenant_page import ASKS_FOR_A_CODE, PASSWORD, choose_password
from tests.portal.test_uploads import pdf_file

pytestmark = pytest.mark.e2e

#: Seconds to wait for the bot: a turn may call the action server and the portal.
REPLY_TIMEOUT = 30.0
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A browser profile of its own: empty localStorage, no cookies."""
    opened = browser.new_context(locale="fr-FR")
    yield opened
    opened.close()


def new_household(
    assistant: Assistant, *, with_account: bool, due: str = "0.00"
) -> tuple[str, str, str]:
    """A household of this test's own (random client number): (number, surname, email)."""
    number = f"{secrets.randbelow(10**8):08d}"
    surname, email = "Lambert", f"widget.{number}@example.org"

    async def create() -> None:
        engine = create_engine(assistant.settings.resolved_database_url)
        try:
            async with session_factory(engine).begin() as session:
                household = _household(number, surname, "8 rue du Widget, 67000 Strasbourg")
                household.leases = [_lease(f"BAIL-{number}-1", "Appartement", "480.00", due)]
                if with_account:
                    household.accounts = [_account(email, AccountStatus.ACTIVE)]
                session.add(household)
        finally:
            await engine.dispose()

    run_in_own_loop(create())
    return number, surname, email


# --------------------------------------------------------------------------- the widget, as seen


def bot_texts(page: Page) -> list[str]:
    return page.locator(".aw-msg.aw-bot").all_inner_texts()


def wait_for_reply(page: Page, seen: int, expected: str) -> str:
    """The bot messages after the first ``seen``, once one of them contains ``expected``."""
    deadline = time.monotonic() + REPLY_TIMEOUT
    while True:
        replies = "\n".join(bot_texts(page)[seen:])
        if expected in replies:
            return replies
        if time.monotonic() > deadline:
            raise AssertionError(
                f"no reply with {expected!r} within {REPLY_TIMEOUT} s: {replies!r}"
            )
        page.wait_for_timeout(100)


def say(page: Page, message: str, expected: str) -> str:
    """Type a message and press Enter, as a tenant does; return the bot's answer."""
    seen = len(bot_texts(page))
    box = page.get_by_role("textbox", name="Votre message")
    box.fill(message)
    box.press("Enter")
    expect(page.locator(".aw-msg.aw-user").last).to_contain_text(message)
    return wait_for_reply(page, seen, expected)


def open_widget(page: Page, assistant: Assistant) -> None:
    page.goto(f"{assistant.portal}/")
    launcher = page.get_by_role("button", name="Ouvrir l'assistant des locataires")
    launcher.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog", name="Assistant des locataires")).to_be_visible()
    expect(page.get_by_role("textbox", name="Votre message")).to_be_focused()
    wait_for_reply(page, 0, "Bonjour")


def conversation_id(page: Page) -> str:
    """The conversation of the widget's session: ``socketio:`` and the signed session's id."""
    session = page.evaluate(
        "JSON.parse(localStorage.getItem('assistant-widget:v1:public')).sessionId"
    )
    return "socketio:" + session.partition(".")[0]


def user_texts_in_tracker(assistant: Assistant, sender: str) -> list[str]:
    tracker = assistant.http.get(
        f"{assistant.rasa}/conversations/{sender}/tracker",
        params={"token": assistant.settings.rasa_api_token},
    )
    tracker.raise_for_status()
    return [event["text"] for event in tracker.json()["events"] if event["event"] == "user"]


# --------------------------------------------------------------------------- tests


def test_register_through_the_widget_and_continue_after_a_reload(
    assistant: Assistant, context: BrowserContext, tmp_path: Path
):
    number, surname, email = new_household(assistant, with_account=False)
    page = context.new_page()
    open_widget(page, assistant)

    # The greeting's buttons are reached with the keyboard (just before the message box)...
    page.keyboard.press("Shift+Tab")
    expect(page.locator(".aw-choice").last).to_be_focused()
    # ...and clicking one shows its title and sends its payload.
    seen = len(bot_texts(page))
    page.get_by_role("button", name="M'inscrire à l'espace locataire").click()
    expect(page.locator(".aw-msg.aw-user").last).to_have_text(
        "Vous : M'inscrire à l'espace locataire"
    )
    wait_for_reply(page, seen, "numéro client")
    say(page, number, "signataire principal")
    say(page, surname, "adresse e-mail")
    reply = say(page, email, "lien d'activation")
    assert email in reply
    # Links in bot messages are real links; bot text never becomes markup.
    assert page.locator(".aw-msg.aw-bot script, .aw-msg.aw-bot iframe").count() == 0
    assistant.wait_for_email(email, "Activez votre espace locataire")
    sender = conversation_id(page)

    page.reload()
    # Same conversation after the reload: transcript shown, panel still open, Rasa continues.
    expect(page.get_by_role("log")).to_contain_text("lien d'activation")
    expect(page.get_by_role("dialog")).to_be_visible()
    assert conversation_id(page) == sender
    say(page, "merci beaucoup", "Avec plaisir")
    page.screenshot(path=tmp_path / "widget-desktop.png")
    said = user_texts_in_tracker(assistant, sender)
    assert number in said and email in said and said[-1] == "merci beaucoup"

    # Escape closes the panel and gives the focus back to the launcher.
    page.get_by_role("textbox", name="Votre message").press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(page.get_by_role("button", name="Ouvrir l'assistant des locataires")).to_be_focused()


def test_a_certificate_is_sent_from_the_widget_on_a_phone(
    assistant: Assistant, browser: Browser, tmp_path: Path
):
    _number, _surname, email = new_household(assistant, with_account=True)
    certificate = tmp_path / "attestation.pdf"
    certificate.write_bytes(pdf_file("Attestation d'assurance habitation"))
    context = browser.new_context(locale="fr-FR", viewport=PHONE, has_touch=True)
    try:
        page = context.new_page()
        open_widget(page, assistant)
        # Full screen on a phone.
        panel = page.get_by_role("dialog").bounding_box()
        assert panel == {"x": 0, "y": 0, **PHONE}

        say(page, "je dois mettre à jour mon assurance habitation", "vérifier")
        say(page, email, "code à 6 chiffres")
        say(page, emailed_code(assistant, email, seen=0), "compagnie d'assurance")
        say(page, "MAIF", "numéro de police")
        say(page, "P-4242", "31/12/2027")
        attach = page.get_by_role("button", name="Joindre un fichier (PDF ou image)")
        expect(attach).to_be_hidden()
        year = date.today().year + 1
        say(page, f"31 décembre {year}", "/depot/")

        expect(attach).to_be_visible()
        seen = len(bot_texts(page))
        with page.expect_file_chooser() as chooser:
            attach.click()
        chooser.value.set_files(certificate)
        # The widget posts the file to the link, then tells the bot "C'est envoyé".
        summary = f"MAIF, police P-4242, valable jusqu'au 31 décembre {year}"
        assert "Bien reçu : attestation.pdf" in wait_for_reply(page, seen, summary)
        expect(page.get_by_role("log")).to_contain_text("Fichier envoyé : attestation.pdf")
        expect(page.locator(".aw-msg.aw-user").last).to_have_text("Vous : C'est envoyé")
        expect(attach).to_be_hidden()
        screenshot = tmp_path / "widget-phone.png"
        page.screenshot(path=screenshot)

        seen = len(bot_texts(page))
        page.get_by_role("button", name="Oui, envoyer").click()
        wait_for_reply(page, seen, "48 h")
        assistant.wait_for_email(email, "attestation d'assurance habitation a bien été reçue")
    finally:
        context.close()
    assert screenshot.stat().st_size > 10_000
    print(f"widget screenshot: {screenshot}")


def test_the_logged_in_page_verifies_the_chat_and_log_out_forgets_it(
    assistant: Assistant, context: BrowserContext
):
    _number, _surname, email = new_household(assistant, with_account=True, due="123.45")
    choose_password(assistant, email, PASSWORD)
    page = context.new_page()
    page.goto(f"{assistant.portal}/espace-locataire/connexion")
    page.get_by_label("Identifiant (adresse e-mail)").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Bonjour Lambert")).to_be_visible()

    # The page's session token reaches Rasa with the first message: no code is asked for.
    page.get_by_role("button", name="Ouvrir l'assistant", exact=True).click()
    greeting = wait_for_reply(page, 0, "impayé de 123,45")
    reply = say(page, "combien je dois ?", "123,45")
    assert not any(words in greeting + reply for words in ASKS_FOR_A_CODE), reply
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('assistant'))") == []
    kept = "Object.keys(sessionStorage).filter(k => k.startsWith('assistant-widget:'))"
    assert len(page.evaluate(kept)) == 1

    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("button", name="Se connecter")).to_be_visible()
    assert page.evaluate(kept) == []


def test_a_lost_connection_is_shown_then_what_was_typed_is_sent(
    assistant: Assistant, context: BrowserContext
):
    page = context.new_page()
    open_widget(page, assistant)
    status = page.get_by_role("dialog").locator(".aw-status")

    context.set_offline(True)
    expect(status).to_have_text("Reconnexion…", timeout=REPLY_TIMEOUT * 1000)
    seen = len(bot_texts(page))
    box = page.get_by_role("textbox", name="Votre message")
    box.fill("merci")
    box.press("Enter")
    context.set_offline(False)

    wait_for_reply(page, seen, "Avec plaisir")
    expect(status).to_have_text("")
    assert user_texts_in_tracker(assistant, conversation_id(page))[-1] == "merci"
