"""End-to-end, over ``POST /webhooks/rest/webhook``: what a verified tenant asks for in the chat
(direct debit, home insurance, a new identifier, unsubscribing) reaches the portal, and the
IBAN typed in the chat is not in the stored conversation."""

from __future__ import annotations

import re
import uuid
from datetime import date
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import Assistant
from tests.e2e.test_account_flows import code_emails, emailed_code
from tests.e2e.test_privacy import logs, tracker_rows
from tests.portal.test_uploads import pdf_file

pytestmark = pytest.mark.e2e

IBAN = "FR76 3000 6000 0112 3456 7890 189"
NGUYEN = "minh.nguyen@example.org"
CLAIRE = "claire.dupont@example.org"


def sender() -> str:
    return f"rest:e2e-requests-{uuid.uuid4().hex[:8]}"


def verified(assistant: Assistant, tenant: str, email: str, first_message: str) -> str:
    """Ask ``first_message``, verify by emailed code; return what the bot said once verified."""
    seen = len(code_emails(assistant, email))
    assert "vérifier" in assistant.say_text(tenant, first_message)
    assert "code à 6 chiffres" in assistant.say_text(tenant, email)
    return assistant.say_text(tenant, emailed_code(assistant, email, seen=seen))


def upload(assistant: Assistant, reply: str, name: str) -> None:
    """Send a PDF through the upload link the bot gave, as the tenant's browser does."""
    (link,) = re.findall(r"http://\S+/depot/\S+", reply)
    sent = assistant.http.post(link, files={"fichier": (name, pdf_file(), "application/pdf")})
    assert sent.status_code == 200, sent.text


def test_direct_debit_in_chat_emails_the_mandate_and_keeps_no_iban(assistant: Assistant):
    tenant = sender()
    reply = verified(assistant, tenant, NGUYEN, "je voudrais le prélèvement automatique")
    assert "déjà prélevé le 7" in reply and "IBAN" in reply

    reply = assistant.say_text(tenant, IBAN.lower())
    assert "FR76 **** **** **** **** ***0 189" in reply
    if "Votre banque est-elle" in reply:
        reply = assistant.say_text(tenant, "oui")
    else:
        reply = assistant.say_text(tenant, "Banque des Tests")
    assert "Ces coordonnées sont-elles exactes" in reply
    reply = assistant.say_text(tenant, "oui")
    assert "le 2, le 7 ou le 10" in reply
    assert "choisissez" in assistant.say_text(tenant, "le 15")
    reply = assistant.say_text(tenant, "le 10")
    assert "RIB" in reply
    assert "pas encore reçu" in assistant.say_text(tenant, "c'est envoyé")
    upload(assistant, reply, "rib.pdf")
    reply = assistant.say_text(tenant, "c'est envoyé")
    assert "Bien reçu : rib.pdf" in reply and "le 10 du mois" in reply
    reply = assistant.say_text(tenant, "oui")
    assert "mandat SEPA" in reply and "24 route de l'Hôpital" in reply

    email = assistant.wait_for_email(NGUYEN, "mandat de prélèvement SEPA")
    assert email["attachments"] and email["attachments"][0].endswith(".pdf")
    # Asked again: the request already waits for the signed mandate.
    assert "attend déjà votre mandat" in assistant.say_text(tenant, "je veux le prélèvement")

    stored = "\n".join(data for sender_id, _kind, data in tracker_rows(assistant))
    for secret in (IBAN, IBAN.lower(), IBAN.replace(" ", ""), "30006000011234567890189"):
        assert secret not in stored
        assert secret not in logs(assistant)


def test_home_insurance_update_is_prefilled_then_waits_for_staff(assistant: Assistant):
    tenant = sender()
    reply = verified(assistant, tenant, CLAIRE, "je dois mettre à jour mon assurance habitation")
    assert "MAIF, police P-000123" in reply and "compagnie d'assurance" in reply

    reply = assistant.say_text(tenant, "MAIF")
    assert "P-000123" in reply
    reply = assistant.say_text(tenant, "P-000123")
    assert "31/12/2027" in reply
    assert "déjà passée" in assistant.say_text(tenant, "1er janvier 2020")
    year = date.today().year + 1
    reply = assistant.say_text(tenant, f"31 décembre {year}")
    assert "PDF" in reply
    upload(assistant, reply, "attestation.pdf")
    reply = assistant.say_text(tenant, "c'est fait")
    assert f"MAIF, police P-000123, valable jusqu'au 31 décembre {year}" in reply
    reply = assistant.say_text(tenant, "oui")
    assert "48 h" in reply

    assistant.wait_for_email(CLAIRE, "attestation d'assurance habitation a bien été reçue")
    assert "déjà en cours de validation" in assistant.say_text(tenant, "mon assurance habitation")


def test_declining_verification_explains_the_tenant_area_instead(assistant: Assistant):
    tenant = sender()
    assert "annuler" in assistant.say_text(tenant, "je voudrais le prélèvement automatique")
    assert "le 2, le 7 ou le 10" in assistant.say_text(tenant, "annuler")


def test_a_new_identifier_is_confirmed_by_a_link_sent_to_it(
    assistant: Assistant, tenant_account: str
):
    tenant, new_email = sender(), f"nouvelle.{uuid.uuid4().hex[:6]}@example.org"
    reply = verified(assistant, tenant, tenant_account, "je veux modifier mon identifiant")
    assert "nouvelle adresse e-mail" in reply
    assert "lien de confirmation" in assistant.say_text(tenant, new_email)

    email = assistant.wait_for_email(new_email, "Confirmez votre nouvel identifiant")
    (link,) = [link for link in email["links"] if "confirmer-identifiant" in link]
    page = assistant.http.get(link, headers={"Accept": "text/html"})
    assert page.status_code == 200
    token = re.search(r'name="jeton" value="([^"]+)"', page.text).group(1)
    done = assistant.http.post(urlsplit(link)._replace(query="").geturl(), data={"jeton": token})
    assert done.status_code == 200
    assistant.wait_for_email(tenant_account, "a été modifié")

    # The new address now verifies a conversation; the old one no longer leads to an account.
    assert (
        "vous êtes à jour" in verified(assistant, sender(), new_email, "suis-je à jour ?").lower()
    )


def test_unsubscribing_in_chat_closes_the_account(assistant: Assistant, tenant_account: str):
    tenant = sender()
    reply = verified(assistant, tenant, tenant_account, "je veux me désinscrire")
    assert "Confirmez-vous la désinscription" in reply
    assert "votre espace locataire est fermé" in assistant.say_text(tenant, "oui")
    assistant.wait_for_email(tenant_account, "désinscription")
    # No longer verified: account data needs a new verification, which cannot succeed.
    assert "vérifier" in assistant.say_text(tenant, "combien je dois ?")


def test_a_password_change_is_a_link_by_email(assistant: Assistant, tenant_account: str):
    tenant = sender()
    reply = verified(assistant, tenant, tenant_account, "je veux changer mon mot de passe")
    assert "nouveau mot de passe" in reply and "jamais votre mot de passe" in reply
    email = assistant.wait_for_email(tenant_account, "nouveau mot de passe")
    assert any("nouveau-mot-de-passe" in link for link in email["links"])
