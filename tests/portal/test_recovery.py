"""Forgotten identifier and forgotten password: everything goes by email to the account's own
address, never in the answer to the chat."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from bot.portal.models import AccountStatus, OneTimeToken, TokenPurpose, utcnow
from bot.portal.services.passwords import verify_password
from tests.portal.support import (
    GOOD_PASSWORD,
    Mailbox,
    Portal,
    accounts_of,
    hidden_fields,
    outbox,
    token_of,
    words,
)

IDENTIFIER_REMINDERS = "/api/v1/identifier-reminders"
PASSWORD_RESETS = "/api/v1/password-resets"
DUPONT = {"client_number": "87654321", "surname": "Dupont"}
CLAIRE = "claire.dupont@example.org"


async def _reset_link(portal: Portal, mailbox: Mailbox, email: str = CLAIRE) -> str:
    response = await portal.api(PASSWORD_RESETS, {"email": email})
    assert response.status_code == 202
    message = await mailbox.wait_for(to=CLAIRE, subject="nouveau mot de passe")
    (link,) = message.links
    return link


# --------------------------------------------------------------------------- identifier


async def test_identifier_is_emailed_to_the_account_address_only(
    portal: Portal, mailbox: Mailbox
) -> None:
    response = await portal.api(
        IDENTIFIER_REMINDERS, {"client_number": "8765 4321", "surname": "DUPONT"}
    )

    assert response.status_code == 202
    assert response.json() == {"status": "accepted"}
    assert "claire" not in response.text
    email = await mailbox.wait_for(to=CLAIRE, subject="Votre identifiant")
    assert CLAIRE in email.text
    assert [e.to for e in mailbox.emails()] == [CLAIRE]


async def test_identifier_reminder_of_a_pending_account_says_to_activate(
    portal: Portal, mailbox: Mailbox
) -> None:
    await portal.api(IDENTIFIER_REMINDERS, {"client_number": "55667788", "surname": "schmitt"})

    email = await mailbox.wait_for(to="j.schmitt@example.org", subject="Votre identifiant")
    assert "Votre compte n'est pas encore activé" in words(email.text)


async def test_identifier_reminder_answers_the_same_when_nothing_matches(
    portal: Portal,
) -> None:
    matching = await portal.api(IDENTIFIER_REMINDERS, DUPONT)
    answers = [
        await portal.api(IDENTIFIER_REMINDERS, {**DUPONT, "surname": "Durand"}),
        await portal.api(IDENTIFIER_REMINDERS, {**DUPONT, "client_number": "10000001"}),
        await portal.api(IDENTIFIER_REMINDERS, {"client_number": "12345678", "surname": "Martin"}),
        await portal.api(IDENTIFIER_REMINDERS, {"client_number": "99887766", "surname": "Weber"}),
    ]

    for answer in answers:
        assert (answer.status_code, answer.content) == (matching.status_code, matching.content)
    assert [email.to_address for email in await outbox(portal.sessions)] == [CLAIRE]


# --------------------------------------------------------------------------- password


async def test_forgotten_password_link_leads_to_a_new_password(
    portal: Portal, mailbox: Mailbox
) -> None:
    link = await _reset_link(portal, mailbox, email=" Claire.Dupont@Example.org ")
    assert link.startswith(f"{portal.settings.public_base_url}/compte/nouveau-mot-de-passe?jeton=")

    form = await portal.open_link(link)
    assert form.status_code == 200
    assert "Choisir un nouveau mot de passe" in form.text
    assert hidden_fields(form.text) == {"jeton": token_of(link)}
    done = await portal.submit_password(link, GOOD_PASSWORD)

    assert done.status_code == 200
    assert "Mot de passe enregistré" in done.text
    (account,) = await accounts_of(portal.sessions, "87654321")
    assert verify_password(account.password_hash, GOOD_PASSWORD)
    notice = await mailbox.wait_for(to=CLAIRE, subject="mot de passe a été modifié")
    assert GOOD_PASSWORD not in notice.text


async def test_password_reset_link_works_only_once(portal: Portal, mailbox: Mailbox) -> None:
    link = await _reset_link(portal, mailbox)
    assert (await portal.submit_password(link, GOOD_PASSWORD)).status_code == 200

    again = await portal.submit_password(link, "Autrement2024!")

    assert again.status_code == 410
    assert "Ce lien a déjà été utilisé" in again.text
    (account,) = await accounts_of(portal.sessions, "87654321")
    assert verify_password(account.password_hash, GOOD_PASSWORD)


async def test_expired_password_reset_link_is_refused(portal: Portal, mailbox: Mailbox) -> None:
    link = await _reset_link(portal, mailbox)
    async with portal.sessions.begin() as session:
        await session.execute(
            update(OneTimeToken)
            .where(OneTimeToken.purpose == TokenPurpose.PASSWORD_RESET)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    before = await portal.snapshot()

    shown = await portal.open_link(link)
    submitted = await portal.submit_password(link, GOOD_PASSWORD)

    for page in (shown, submitted):
        assert page.status_code == 410
        assert "Ce lien a expiré" in page.text
        assert "mot de passe oublié" in page.text
    assert await portal.snapshot() == before


async def test_weak_new_password_is_refused_and_the_link_still_works(
    portal: Portal, mailbox: Mailbox
) -> None:
    link = await _reset_link(portal, mailbox)
    before = await portal.snapshot()

    page = await portal.submit_password(link, "claire.dupont2024A")

    assert page.status_code == 400
    assert "ne pas reprendre votre adresse e-mail" in page.text
    assert await portal.snapshot() == before
    assert (await portal.submit_password(link, GOOD_PASSWORD)).status_code == 200


async def test_only_the_latest_reset_link_works(portal: Portal, mailbox: Mailbox) -> None:
    first = await _reset_link(portal, mailbox)
    await portal.api(PASSWORD_RESETS, {"email": CLAIRE})
    latest = await mailbox.wait_for(to=CLAIRE, subject="nouveau mot de passe", count=2)

    assert (await portal.open_link(first)).status_code == 410
    assert (await portal.submit_password(latest.links[0], GOOD_PASSWORD)).status_code == 200


async def test_forgotten_password_of_a_pending_account_resends_the_activation_link(
    portal: Portal, mailbox: Mailbox
) -> None:
    await portal.api(PASSWORD_RESETS, {"email": "j.schmitt@example.org"})

    email = await mailbox.wait_for(to="j.schmitt@example.org", subject="Activez")
    assert "/compte/activer?jeton=" in email.links[0]


async def test_forgotten_password_for_unknown_or_closed_addresses_sends_nothing(
    portal: Portal,
) -> None:
    for address in ("inconnu@example.org", "weber@example.org"):
        response = await portal.api(PASSWORD_RESETS, {"email": address})
        assert response.status_code == 202
        assert response.json() == {"status": "accepted"}
    assert await outbox(portal.sessions) == []
    (weber,) = await accounts_of(portal.sessions, "99887766")
    assert weber.status == AccountStatus.DEACTIVATED
