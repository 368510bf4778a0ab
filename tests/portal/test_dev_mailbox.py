"""The development mailbox: every email the portal sends, newest first; absent in production."""

from __future__ import annotations

import socket

from sqlalchemy.orm import sessionmaker

from bot.settings import Settings
from tests.portal.support import MARTIN, Mailbox, Portal, running_portal


async def _two_emails(portal: Portal, mailbox: Mailbox) -> None:
    await portal.api("/api/v1/registrations", MARTIN)
    await mailbox.wait_for(to=MARTIN["email"], subject="Activez")
    await portal.api("/api/v1/password-resets", {"email": "claire.dupont@example.org"})
    await mailbox.wait_for(to="claire.dupont@example.org", subject="mot de passe")


async def test_mailbox_lists_emails_newest_first(portal: Portal, mailbox: Mailbox) -> None:
    await _two_emails(portal, mailbox)

    response = await portal.client.get("/dev/mailbox")

    assert response.status_code == 200
    newest, oldest = response.json()
    assert newest["to"] == "claire.dupont@example.org"
    assert newest["subject"] == "Choisissez un nouveau mot de passe"
    assert "/compte/nouveau-mot-de-passe?jeton=" in newest["links"][0]
    assert newest["links"][0] in newest["text"]
    assert oldest["to"] == "martin@example.org"
    assert oldest["subject"] == "Activez votre espace locataire"
    assert {"to", "subject", "text", "links"} <= set(newest)


async def test_mailbox_filters_by_recipient(portal: Portal, mailbox: Mailbox) -> None:
    await _two_emails(portal, mailbox)

    response = await portal.client.get("/dev/mailbox", params={"to": "Martin@Example.org"})

    assert [email["to"] for email in response.json()] == ["martin@example.org"]


async def test_mailbox_is_empty_before_any_email(portal: Portal) -> None:
    response = await portal.client.get("/dev/mailbox")

    assert response.status_code == 200
    assert response.json() == []


async def test_mailbox_page_for_a_browser(portal: Portal, mailbox: Mailbox) -> None:
    await _two_emails(portal, mailbox)

    response = await portal.client.get("/dev/mailbox", headers={"Accept": "text/html"})

    assert response.headers["content-type"].startswith("text/html")
    assert "Boîte aux lettres de développement" in response.text
    assert response.text.index("Choisissez un nouveau") < response.text.index("Activez votre")


async def test_no_mailbox_in_production(
    portal_settings: Settings, sessions: sessionmaker, portal_socket: socket.socket
) -> None:
    production = portal_settings.with_overrides(env="production")

    async with running_portal(production, portal_socket, sessions) as portal:
        json_answer = await portal.client.get("/dev/mailbox")
        page = await portal.client.get("/dev/mailbox?format=html", headers={"Accept": "text/html"})
        home = await portal.client.get("/", headers={"Accept": "text/html"})

    assert json_answer.status_code == 404
    assert json_answer.json() == {"error": "not_found", "message": "Page introuvable."}
    assert page.status_code == 404
    assert "boîte aux lettres" not in home.text
