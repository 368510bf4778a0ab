"""End-to-end: a tenant logs in to the extranet page that hosts the widget; the session token it
carries, sent as REST metadata with the first message, verifies the chat without a code."""

from __future__ import annotations

import re
import sqlite3
import time
import uuid

import httpx
import pytest

from tests.e2e.conftest import Assistant, form_fields

pytestmark = pytest.mark.e2e

CLAIRE = "claire.dupont@example.org"
PASSWORD = "Espace-Locataire-2026"
HTML = {"Accept": "text/html"}
ASKS_FOR_A_CODE = ("vérifier", "code à 6 chiffres", "adresse e-mail")


def sender() -> str:
    return f"rest:e2e-widget-{uuid.uuid4().hex}"


def reset_links(assistant: Assistant, email: str) -> list[str]:
    return [
        link
        for message in assistant.mailbox(email)
        if "nouveau mot de passe" in message["subject"].lower()
        for link in message["links"]
        if "/compte/nouveau-mot-de-passe" in link
    ]


def choose_password(assistant: Assistant, email: str, password: str) -> None:
    """Demo passwords are unknown: go through "mot de passe oublié", as a tenant would."""
    seen = len(reset_links(assistant, email))
    asked = assistant.http.post(
        f"{assistant.portal}/api/v1/password-resets",
        json={"email": email},
        headers={
            "Authorization": f"Bearer {assistant.settings.service_token}",
            "X-Conversation-Id": sender(),
        },
    )
    assert asked.status_code == 202, asked.text
    deadline = time.monotonic() + 30
    while len(links := reset_links(assistant, email)) <= seen:
        assert time.monotonic() < deadline, "no password reset email"
        time.sleep(0.2)
    page = assistant.http.get(links[0], headers=HTML)
    done = assistant.http.post(
        links[0].split("?")[0],
        data={**form_fields(page.text), "mot_de_passe": password, "confirmation": password},
        headers=HTML,
    )
    assert "Mot de passe enregistré" in done.text


def logged_in_page(assistant: Assistant, email: str, password: str) -> str:
    """Log in with a browser of its own (its own cookies) and return the tenant page."""
    with httpx.Client(base_url=assistant.portal, timeout=30) as browser:
        login = browser.get("/espace-locataire/connexion", headers=HTML)
        form = {**form_fields(login.text), "email": email, "mot_de_passe": password}
        logged_in = browser.post("/espace-locataire/connexion", data=form, headers=HTML)
        assert logged_in.status_code == 303, logged_in.text
        page = browser.get(logged_in.headers["location"], headers=HTML)
    assert page.status_code == 200
    return page.text


def test_the_widget_token_verifies_the_chat_without_a_code(assistant: Assistant):
    choose_password(assistant, CLAIRE, PASSWORD)
    page = logged_in_page(assistant, CLAIRE, PASSWORD)
    assert "Bonjour Dupont" in page and "412,50\u00a0€" in page
    token = re.search(r'data-session-token="([^"]+)"', page).group(1)
    tenant = sender()

    reply = assistant.say_text(tenant, "combien je dois ?", metadata={"session_token": token})

    assert "412,50" in reply
    assert not any(words in reply for words in ASKS_FOR_A_CODE), reply
    with sqlite3.connect(assistant.settings.var_dir / "portal.db") as connection:
        methods = connection.execute(
            "SELECT method FROM conversation_grants WHERE conversation_id = ?", (tenant,)
        ).fetchall()
    assert methods == [("session_token",)]
    # Later messages carry no token: the conversation stays verified.
    assert "412,50" in assistant.say_text(tenant, "et mon solde ?")


def test_a_tampered_token_verifies_nothing(assistant: Assistant):
    choose_password(assistant, CLAIRE, PASSWORD)
    token = re.search(
        r'data-session-token="([^"]+)"', logged_in_page(assistant, CLAIRE, PASSWORD)
    ).group(1)
    payload, _, signature = token.partition(".")
    tampered = f"{payload}.{signature[::-1]}"

    reply = assistant.say_text(sender(), "combien je dois ?", metadata={"session_token": tampered})

    assert "vérifier" in reply and "412,50" not in reply
