"""Account changes for a verified conversation: a new identifier confirmed from the new address,
a new password through the emailed link, unsubscribing (and registering again afterwards)."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import sessionmaker

from bot.errors import Conflict
from bot.portal.models import AccountStatus, ConversationGrant, OneTimeToken, TokenPurpose, utcnow
from bot.portal.services import account_changes
from bot.portal.services.passwords import verify_password
from bot.settings import Settings
from tests.portal.support import (
    GOOD_PASSWORD,
    MARTIN,
    Mailbox,
    Portal,
    accounts_of,
    hidden_fields,
    outbox,
    token_of,
    verify_conversation,
    words,
)

IDENTIFIER_CHANGES = "/api/v1/identifier-changes"
PASSWORD_CHANGES = "/api/v1/password-changes"
UNSUBSCRIPTIONS = "/api/v1/unsubscriptions"
CLAIRE = "claire.dupont@example.org"
DUPONT = "87654321"
NEW = "claire.nouvelle@example.org"
CHAT = "chat-1"


async def _login_email(portal: Portal, client_number: str = DUPONT) -> str:
    return (await accounts_of(portal.sessions, client_number))[-1].email


async def _change_link(portal: Portal, mailbox: Mailbox, new_email: str = NEW) -> str:
    await verify_conversation(portal, CLAIRE, CHAT)
    response = await portal.api(IDENTIFIER_CHANGES, {"new_email": new_email}, conversation_id=CHAT)
    assert response.status_code == 202, response.text
    message = await mailbox.wait_for(to=new_email, subject="Confirmez votre nouvel identifiant")
    (link,) = message.links
    return link


async def _confirm(portal: Portal, link: str):
    return await portal.client.post(
        "/compte/confirmer-identifiant",
        data={"jeton": token_of(link)},
        headers={"Accept": "text/html"},
    )


async def _me(portal: Portal, conversation: str):
    return await portal.client.get("/api/v1/me", headers=portal.headers(conversation))


async def _verify_by_code(portal: Portal, mailbox: Mailbox, email: str, conversation: str):
    await portal.api("/api/v1/verifications", {"email": email}, conversation_id=conversation)
    await portal.deliver_now()
    message = await mailbox.wait_for(to=email, subject="code de vérification")
    code = re.search(r"\b(\d{6})\b", message.text).group(1)
    return await portal.api(
        "/api/v1/verifications/code", {"code": code}, conversation_id=conversation
    )


# --------------------------------------------------------------------------- verified only


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (IDENTIFIER_CHANGES, {"new_email": NEW}),
        (PASSWORD_CHANGES, {}),
        (UNSUBSCRIPTIONS, {}),
    ],
)
async def test_account_changes_need_a_verified_conversation(
    portal: Portal, path: str, body: dict[str, str]
) -> None:
    for conversation in (None, "not-verified"):
        response = await portal.api(path, body, conversation_id=conversation)

        assert response.status_code == 401
        assert response.json()["error"] == "not_verified"
    assert await outbox(portal.sessions) == []
    assert await _login_email(portal) == CLAIRE


# --------------------------------------------------------------------------- identifier


async def test_identifier_change_link_goes_to_the_new_address_only(
    portal: Portal, mailbox: Mailbox
) -> None:
    await verify_conversation(portal, CLAIRE, CHAT)

    response = await portal.api(
        IDENTIFIER_CHANGES, {"new_email": " Claire.Nouvelle@Example.org "}, conversation_id=CHAT
    )

    assert response.status_code == 202
    assert response.json() == {"sent_to_masked": "c***@example.org"}
    message = await mailbox.wait_for(to=NEW, subject="Confirmez votre nouvel identifiant")
    (link,) = message.links
    assert link.startswith(f"{portal.settings.public_base_url}/compte/confirmer-identifiant?jeton=")
    assert "24 heures" in words(message.text)
    assert CLAIRE not in message.text
    assert [email.to_address for email in await outbox(portal.sessions)] == [NEW]
    assert await _login_email(portal) == CLAIRE


async def test_confirmation_page_changes_nothing_until_the_button_is_pressed(
    portal: Portal, mailbox: Mailbox
) -> None:
    link = await _change_link(portal, mailbox)

    for _ in range(2):  # a mail scanner, then the tenant
        page = await portal.open_link(link)
        assert page.status_code == 200
        assert "Confirmer mon nouvel identifiant" in page.text
        assert NEW in page.text
        assert hidden_fields(page.text) == {"jeton": token_of(link)}
    assert page.headers["referrer-policy"] == "no-referrer"
    assert await _login_email(portal) == CLAIRE

    done = await _confirm(portal, link)

    assert done.status_code == 200
    assert "Votre identifiant est modifié" in done.text
    assert await _login_email(portal) == NEW


async def test_after_the_change_only_the_new_address_verifies_and_both_are_told(
    portal: Portal, mailbox: Mailbox
) -> None:
    assert (await _confirm(portal, await _change_link(portal, mailbox))).status_code == 200

    old_notice = await mailbox.wait_for(
        to=CLAIRE, subject="identifiant de l'espace locataire a été"
    )
    assert "c***@example.org" in old_notice.text
    assert NEW not in old_notice.text
    assert "contactez au plus vite" in words(old_notice.text)
    new_notice = await mailbox.wait_for(to=NEW, subject="Votre nouvel identifiant est enregistré")
    assert NEW in new_notice.text

    await portal.api("/api/v1/verifications", {"email": CLAIRE}, conversation_id="old")
    verified = await _verify_by_code(portal, mailbox, NEW, "new")
    assert verified.status_code == 200
    assert (await _me(portal, "new")).json()["email"] == NEW
    codes = [
        e.to_address for e in await outbox(portal.sessions) if e.template == "verification_code"
    ]
    assert codes == [NEW]


async def test_identifier_change_link_works_only_once(portal: Portal, mailbox: Mailbox) -> None:
    link = await _change_link(portal, mailbox)
    assert (await _confirm(portal, link)).status_code == 200

    for again in (await _confirm(portal, link), await portal.open_link(link)):
        assert again.status_code == 410
        assert "Ce lien a déjà été utilisé" in again.text
    assert await _login_email(portal) == NEW


async def test_expired_identifier_change_link_is_refused(portal: Portal, mailbox: Mailbox) -> None:
    link = await _change_link(portal, mailbox)
    async with portal.sessions.begin() as session:
        await session.execute(
            update(OneTimeToken)
            .where(OneTimeToken.purpose == TokenPurpose.IDENTIFIER_CHANGE)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    before = await portal.snapshot()

    for page in (await portal.open_link(link), await _confirm(portal, link)):
        assert page.status_code == 410
        assert "Ce lien a expiré" in page.text
        assert "refaites la demande" in words(page.text)
    assert await portal.snapshot() == before


async def test_a_new_request_revokes_the_previous_link(portal: Portal, mailbox: Mailbox) -> None:
    first = await _change_link(portal, mailbox)
    latest = await _change_link(portal, mailbox, "claire.autre@example.org")

    assert (await portal.open_link(first)).status_code == 410
    assert (await _confirm(portal, first)).status_code == 410
    assert (await _confirm(portal, latest)).status_code == 200
    assert await _login_email(portal) == "claire.autre@example.org"


@pytest.mark.parametrize("taken", ["minh.nguyen@example.org", "j.schmitt@example.org"])
async def test_address_of_another_account_gets_a_notice_and_the_same_answer(
    portal: Portal, mailbox: Mailbox, taken: str
) -> None:
    await verify_conversation(portal, CLAIRE, CHAT)
    free = await portal.api(IDENTIFIER_CHANGES, {"new_email": NEW}, conversation_id=CHAT)

    response = await portal.api(
        IDENTIFIER_CHANGES, {"new_email": taken.upper()}, conversation_id=CHAT
    )

    assert response.status_code == free.status_code == 202
    assert response.json() == {"sent_to_masked": f"{taken[0]}***@example.org"}
    notice = await mailbox.wait_for(to=taken, subject="changement d'identifiant")
    assert "déjà l'identifiant d'un autre espace locataire" in words(notice.text)
    assert not [link for link in notice.links if "confirmer-identifiant" in link]
    async with portal.sessions() as session:
        pending = (
            await session.scalars(
                select(OneTimeToken.new_email).where(
                    OneTimeToken.purpose == TokenPurpose.IDENTIFIER_CHANGE
                )
            )
        ).all()
    assert pending == [NEW]
    assert await _login_email(portal) == CLAIRE


async def test_address_taken_before_the_confirmation_changes_nothing(
    portal: Portal, mailbox: Mailbox
) -> None:
    link = await _change_link(portal, mailbox)
    registered = await portal.api("/api/v1/registrations", {**MARTIN, "email": NEW})
    assert registered.status_code == 202
    await mailbox.wait_for(to=NEW, subject="Activez")

    page = await _confirm(portal, link)

    assert page.status_code == 409
    assert "déjà utilisée" in page.text
    assert "votre identifiant n'a pas été modifié" in words(unescape(page.text))
    assert await _login_email(portal) == CLAIRE
    assert [e.to_address for e in await outbox(portal.sessions)].count(CLAIRE) == 0


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"new_email": CLAIRE.upper()}, 400, "same_email"),
        ({"new_email": "claire@"}, 400, "invalid_email"),
        ({}, 400, "missing_field"),
        ({"new_email": 3}, 400, "wrong_type"),
    ],
)
async def test_unusable_new_addresses_are_refused(
    portal: Portal, body: dict[str, object], status: int, code: str
) -> None:
    await verify_conversation(portal, CLAIRE, CHAT)
    before = await portal.snapshot()

    response = await portal.api(IDENTIFIER_CHANGES, body, conversation_id=CHAT)

    assert (response.status_code, response.json()["error"]) == (status, code)
    assert response.json()["field"] == "new_email"
    assert await portal.snapshot() == before


async def test_identifier_changes_are_rate_limited(portal: Portal) -> None:
    await verify_conversation(portal, CLAIRE, CHAT)
    limit = min(
        portal.settings.rate_limit_per_conversation, portal.settings.rate_limit_per_client_number
    )

    answers = [
        await portal.api(
            IDENTIFIER_CHANGES, {"new_email": f"essai{n}@example.org"}, conversation_id=CHAT
        )
        for n in range(limit + 1)
    ]

    assert [a.status_code for a in answers] == [202] * limit + [429]
    assert answers[-1].json()["error"] == "rate_limited"
    assert len(await outbox(portal.sessions)) == limit


# --------------------------------------------------------------------------- password


async def test_password_change_link_works_on_the_new_password_page(
    portal: Portal, mailbox: Mailbox
) -> None:
    await verify_conversation(portal, CLAIRE, CHAT)

    response = await portal.client.post(PASSWORD_CHANGES, headers=portal.headers(CHAT))

    assert response.status_code == 202
    assert response.json() == {"sent_to_masked": "c***@example.org"}
    message = await mailbox.wait_for(to=CLAIRE, subject="nouveau mot de passe")
    (link,) = message.links
    assert link.startswith(f"{portal.settings.public_base_url}/compte/nouveau-mot-de-passe?")
    form = await portal.open_link(link)
    assert form.status_code == 200
    done = await portal.submit_password(link, GOOD_PASSWORD)
    assert done.status_code == 200
    assert "Mot de passe enregistré" in done.text
    (account,) = await accounts_of(portal.sessions, DUPONT)
    assert verify_password(account.password_hash, GOOD_PASSWORD)
    await mailbox.wait_for(to=CLAIRE, subject="mot de passe a été modifié")


async def test_password_change_accepts_an_empty_object_but_not_junk(portal: Portal) -> None:
    await verify_conversation(portal, CLAIRE, CHAT)

    assert (await portal.api(PASSWORD_CHANGES, {}, conversation_id=CHAT)).status_code == 202
    junk = await portal.client.post(
        PASSWORD_CHANGES, content=b"[1, 2]", headers=portal.headers(CHAT)
    )
    assert (junk.status_code, junk.json()["error"]) == (400, "bad_json")


async def test_password_change_is_only_for_an_active_account(
    sessions: sessionmaker, portal_settings: Settings
) -> None:
    (pending,) = await accounts_of(sessions, "55667788")

    async with sessions.begin() as session:
        with pytest.raises(Conflict) as refused:
            await account_changes.request_password_change(
                session=session, settings=portal_settings, account_id=pending.id
            )

    assert refused.value.code == "account_not_active"
    assert await outbox(sessions) == []


# --------------------------------------------------------------------------- unsubscribe


async def test_unsubscribing_ends_the_verification_and_the_household_may_register_again(
    portal: Portal, mailbox: Mailbox
) -> None:
    await verify_conversation(portal, CLAIRE, CHAT)
    assert (await _me(portal, CHAT)).status_code == 200

    response = await portal.api(UNSUBSCRIPTIONS, {}, conversation_id=CHAT)

    assert response.status_code == 200
    assert response.json() == {"status": "unsubscribed"}
    after = await _me(portal, CHAT)
    assert (after.status_code, after.json()["error"]) == (401, "not_verified")
    async with portal.sessions() as session:
        grants = (await session.scalars(select(ConversationGrant))).all()
    assert [grant.revoked_at is not None for grant in grants] == [True]
    (account,) = await accounts_of(portal.sessions, DUPONT)
    assert account.status == AccountStatus.UNSUBSCRIBED
    await mailbox.wait_for(to=CLAIRE, subject="désinscription")

    again = await portal.api(
        "/api/v1/registrations",
        {"client_number": DUPONT, "surname": "Dupont", "email": CLAIRE},
        conversation_id="chat-2",
    )

    assert again.status_code == 202
    activation = await mailbox.wait_for(to=CLAIRE, subject="Activez")
    assert "/compte/activer?jeton=" in activation.links[0]
    statuses = [a.status for a in await accounts_of(portal.sessions, DUPONT)]
    assert statuses == [AccountStatus.UNSUBSCRIBED, AccountStatus.PENDING]
