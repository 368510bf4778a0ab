"""Registering to the tenant extranet, as the help page describes it: client number, surname of
the main signatory and an email; an activation link by email; a confirmation after activation."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from bot.portal.models import AccountStatus, OneTimeToken, utcnow
from bot.portal.services.passwords import verify_password
from tests.portal.support import (
    GOOD_PASSWORD,
    MARTIN,
    Mailbox,
    Portal,
    accounts_of,
    hidden_fields,
    outbox,
    token_of,
    words,
)

REGISTRATIONS = "/api/v1/registrations"
ACTIVATION_EMAILS = "/api/v1/activation-emails"


async def _register_martin(portal: Portal, mailbox: Mailbox, **typed: str) -> str:
    """Register the Martin household; return the activation link it receives."""
    response = await portal.api(REGISTRATIONS, {**MARTIN, **typed})
    assert response.status_code == 202
    email = await mailbox.wait_for(to=MARTIN["email"], subject="Activez votre espace locataire")
    (link,) = [link for link in email.links if "/compte/activer?jeton=" in link]
    return link


async def test_registration_creates_a_pending_account_and_emails_an_activation_link(
    portal: Portal, mailbox: Mailbox
) -> None:
    response = await portal.api(REGISTRATIONS, MARTIN)

    assert response.status_code == 202
    assert response.json() == {"status": "accepted"}
    (account,) = await accounts_of(portal.sessions, "12345678")
    assert account.status == AccountStatus.PENDING
    assert account.email == "martin@example.org"
    assert account.password_hash is None
    email = await mailbox.wait_for(to="martin@example.org", subject="Activez")
    assert email.links[0].startswith(f"{portal.settings.public_base_url}/compte/activer?jeton=")
    assert "48 heures" in email.text


async def test_registration_tolerates_how_tenants_type_their_details(
    portal: Portal, mailbox: Mailbox
) -> None:
    typed = {"client_number": "1234 5678", "surname": " MÂRTIN ", "email": " Martin@Example.ORG"}

    await _register_martin(portal, mailbox, **typed)

    (account,) = await accounts_of(portal.sessions, "12345678")
    assert account.email == "martin@example.org"


async def test_activation_page_shows_a_french_password_form(
    portal: Portal, mailbox: Mailbox
) -> None:
    link = await _register_martin(portal, mailbox)

    page = await portal.open_link(link)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="fr">' in page.text
    assert "Activer mon espace locataire" in page.text
    assert "au moins 12 caractères" in page.text
    assert hidden_fields(page.text) == {"jeton": token_of(link)}
    assert page.headers["referrer-policy"] == "no-referrer"


async def test_weak_password_is_refused_and_changes_nothing(
    portal: Portal, mailbox: Mailbox
) -> None:
    link = await _register_martin(portal, mailbox)
    before = await portal.snapshot()

    page = await portal.submit_password(link, "motdepasse")

    assert page.status_code == 400
    assert "Le mot de passe doit contenir" in page.text
    assert "une lettre majuscule" in page.text
    assert await portal.snapshot() == before
    assert (await portal.open_link(link)).status_code == 200  # the link still works


async def test_mismatched_confirmation_is_refused_and_changes_nothing(
    portal: Portal, mailbox: Mailbox
) -> None:
    link = await _register_martin(portal, mailbox)
    before = await portal.snapshot()

    page = await portal.submit_password(link, GOOD_PASSWORD, "Printemps2025!")

    assert page.status_code == 400
    assert "Les deux mots de passe saisis sont différents." in page.text
    assert await portal.snapshot() == before


async def test_activation_with_a_good_password_activates_and_confirms_by_email(
    portal: Portal, mailbox: Mailbox
) -> None:
    link = await _register_martin(portal, mailbox)

    page = await portal.submit_password(link, GOOD_PASSWORD)

    assert page.status_code == 200
    assert "Votre compte est activé" in page.text
    (account,) = await accounts_of(portal.sessions, "12345678")
    assert account.status == AccountStatus.ACTIVE
    assert account.activated_at is not None
    assert verify_password(account.password_hash, GOOD_PASSWORD)
    confirmation = await mailbox.wait_for(to="martin@example.org", subject="confirmée")
    assert "martin@example.org" in confirmation.text
    assert GOOD_PASSWORD not in confirmation.text


async def test_activation_link_works_only_once(portal: Portal, mailbox: Mailbox) -> None:
    link = await _register_martin(portal, mailbox)
    assert (await portal.submit_password(link, GOOD_PASSWORD)).status_code == 200
    before = await portal.snapshot()

    reopened = await portal.open_link(link)
    resubmitted = await portal.submit_password(link, "Automne2024!!")

    for page in (reopened, resubmitted):
        assert page.status_code == 410
        assert "Ce lien a déjà été utilisé" in page.text
    assert await portal.snapshot() == before


async def test_expired_activation_link_is_refused(portal: Portal, mailbox: Mailbox) -> None:
    link = await _register_martin(portal, mailbox)
    async with portal.sessions.begin() as session:
        await session.execute(
            update(OneTimeToken).values(expires_at=utcnow() - timedelta(seconds=1))
        )

    page = await portal.open_link(link)

    assert page.status_code == 410
    assert "Ce lien a expiré" in page.text
    assert (await portal.submit_password(link, GOOD_PASSWORD)).status_code == 410
    (account,) = await accounts_of(portal.sessions, "12345678")
    assert account.status == AccountStatus.PENDING


async def test_second_registration_of_a_household_creates_no_second_account(
    portal: Portal, mailbox: Mailbox
) -> None:
    await _register_martin(portal, mailbox)

    response = await portal.api(REGISTRATIONS, {**MARTIN, "email": "autre@example.org"})

    assert response.status_code == 202
    assert len(await accounts_of(portal.sessions, "12345678")) == 1
    email = await mailbox.wait_for(to="autre@example.org", subject="inscription")
    assert "dispose déjà d'un espace locataire" in words(email.text)
    assert "Une seule inscription est possible par foyer" in words(email.text)


async def test_household_with_an_active_account_cannot_register_again(
    portal: Portal, mailbox: Mailbox
) -> None:
    dupont = {"client_number": "87654321", "surname": "Dupont", "email": "c.dupont@example.org"}

    response = await portal.api(REGISTRATIONS, dupont)

    assert response.status_code == 202
    (account,) = await accounts_of(portal.sessions, "87654321")
    assert account.email == "claire.dupont@example.org"
    email = await mailbox.wait_for(to="c.dupont@example.org", subject="inscription")
    assert "dispose déjà d'un espace locataire" in words(email.text)
    assert mailbox.emails("claire.dupont@example.org") == []


async def test_wrong_surname_and_unknown_number_get_the_same_answer(
    portal: Portal, mailbox: Mailbox
) -> None:
    wrong_surname = await portal.api(REGISTRATIONS, {**MARTIN, "surname": "Durand"})
    unknown_number = await portal.api(REGISTRATIONS, {**MARTIN, "client_number": "10000001"})
    matching = await portal.api(REGISTRATIONS, {**MARTIN, "email": "vrai@example.org"})

    answers = {
        (r.status_code, r.content, r.headers["content-type"])
        for r in (wrong_surname, unknown_number, matching)
    }
    assert len(answers) == 1
    (account,) = await accounts_of(portal.sessions, "12345678")
    assert account.email == "vrai@example.org"
    unmatched = await mailbox.wait_for(to=MARTIN["email"], subject="inscription", count=2)
    assert "pas pu la rapprocher d'un logement" in words(unmatched.text)
    assert unmatched.links == []


async def test_household_that_moved_out_cannot_register(portal: Portal, mailbox: Mailbox) -> None:
    weber = {"client_number": "99887766", "surname": "Weber", "email": "nouveau@example.org"}

    assert (await portal.api(REGISTRATIONS, weber)).status_code == 202

    email = await mailbox.wait_for(to="nouveau@example.org", subject="inscription")
    assert "pas pu la rapprocher d'un logement" in words(email.text)
    assert len(await accounts_of(portal.sessions, "99887766")) == 1  # the old, deactivated one


async def test_email_of_another_household_cannot_be_reused(
    portal: Portal, mailbox: Mailbox
) -> None:
    taken = {**MARTIN, "email": "claire.dupont@example.org"}

    assert (await portal.api(REGISTRATIONS, taken)).status_code == 202

    email = await mailbox.wait_for(to="claire.dupont@example.org", subject="inscription")
    assert "déjà utilisée par un autre espace locataire" in words(email.text)
    assert await accounts_of(portal.sessions, "12345678") == []


async def test_resending_the_activation_email_disables_the_previous_link(
    portal: Portal, mailbox: Mailbox
) -> None:
    first = await _register_martin(portal, mailbox)

    response = await portal.api(ACTIVATION_EMAILS, {"email": "martin@example.org"})

    assert response.status_code == 202
    assert response.json() == {"status": "accepted"}
    latest = await mailbox.wait_for(to="martin@example.org", subject="Activez", count=2)
    (second,) = latest.links
    assert second != first
    old = await portal.open_link(first)
    assert old.status_code == 410
    assert "un lien plus récent vous a été envoyé" in old.text
    assert (await portal.submit_password(second, GOOD_PASSWORD)).status_code == 200


async def test_registering_again_while_pending_sends_a_fresh_link(
    portal: Portal, mailbox: Mailbox
) -> None:
    first = await _register_martin(portal, mailbox)

    assert (await portal.api(REGISTRATIONS, MARTIN)).status_code == 202

    latest = await mailbox.wait_for(to="martin@example.org", subject="Activez", count=2)
    assert latest.links[0] != first
    assert (await portal.open_link(first)).status_code == 410
    assert len(await accounts_of(portal.sessions, "12345678")) == 1


async def test_pending_schmitt_can_get_a_new_activation_email(
    portal: Portal, mailbox: Mailbox
) -> None:
    response = await portal.api(ACTIVATION_EMAILS, {"email": "J.Schmitt@example.org"})

    assert response.status_code == 202
    email = await mailbox.wait_for(to="j.schmitt@example.org", subject="Activez")
    assert (await portal.submit_password(email.links[0], GOOD_PASSWORD)).status_code == 200
    (account,) = await accounts_of(portal.sessions, "55667788")
    assert account.status == AccountStatus.ACTIVE


async def test_activation_email_for_an_active_account_says_so(
    portal: Portal, mailbox: Mailbox
) -> None:
    await portal.api(ACTIVATION_EMAILS, {"email": "claire.dupont@example.org"})

    email = await mailbox.wait_for(to="claire.dupont@example.org", subject="déjà activé")
    assert email.links == [portal.settings.public_base_url]


async def test_activation_email_for_an_unknown_address_sends_nothing(portal: Portal) -> None:
    response = await portal.api(ACTIVATION_EMAILS, {"email": "inconnu@example.org"})

    assert response.status_code == 202
    assert response.json() == {"status": "accepted"}
    assert await outbox(portal.sessions) == []
