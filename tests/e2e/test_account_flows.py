"""End-to-end: a tenant chats over the REST channel; emails and pages do the rest."""

from __future__ import annotations

import re
import sqlite3
import time
import uuid

import pytest

from tests.e2e.conftest import Assistant, form_fields

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "Loyer-Payé-2026"


def sender() -> str:
    return f"rest:e2e-{uuid.uuid4().hex[:8]}"


def activate_through_page(assistant: Assistant, link: str) -> str:
    page = assistant.http.get(link, headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "Choisissez le mot de passe" in page.text
    fields = form_fields(page.text)
    done = assistant.http.post(
        link.split("?")[0],
        data={**fields, "mot_de_passe": NEW_PASSWORD, "confirmation": NEW_PASSWORD},
        headers={"Accept": "text/html"},
    )
    assert done.status_code == 200
    return done.text


def test_register_activate_and_get_the_confirmation(assistant: Assistant):
    tenant, email = sender(), "martin.e2e@example.org"
    assert "Bonjour" in assistant.say_text(tenant, "Bonjour")
    assert "numéro client" in assistant.say_text(
        tenant, "je voudrais m'inscrire sur l'espace locataire"
    )
    assert "signataire principal" in assistant.say_text(tenant, "12345678")
    assert "adresse e-mail" in assistant.say_text(tenant, "Martin")
    reply = assistant.say_text(tenant, email)
    assert "lien d'activation" in reply and email in reply

    activation = assistant.wait_for_email(email, "Activez votre espace locataire")
    (link,) = [link for link in activation["links"] if "/compte/activer" in link]
    done = activate_through_page(assistant, link)
    assert "Votre compte est activé" in done

    confirmation = assistant.wait_for_email(email, "inscription à l'espace locataire est confirmée")
    assert email in confirmation["text"]
    again = assistant.http.get(link, headers={"Accept": "text/html"})
    assert again.status_code == 410 and "déjà été utilisé" in again.text


def test_invalid_client_number_is_explained_then_a_person_is_offered(assistant: Assistant):
    tenant = sender()
    assistant.say_text(tenant, "je veux créer mon compte")
    assert "8 chiffres" in assistant.say_text(tenant, "1234567")
    assert "8 chiffres" in assistant.say_text(tenant, "abcdefgh")
    third = assistant.say(tenant, "12 34")
    assert any("conseiller" in reply.get("text", "") for reply in third)
    buttons = [b["payload"] for reply in third for b in reply.get("buttons", [])]
    assert "/human_handoff" in buttons
    assert "transmise" in assistant.say_text(tenant, "/human_handoff")


def test_wrong_surname_and_unknown_number_get_the_same_reply(assistant: Assistant):
    replies = []
    for number, surname in (("87654321", "Durand"), ("40404040", "Dupont")):
        tenant = sender()
        assistant.say_text(tenant, "identifiant oublié")
        assistant.say_text(tenant, surname)
        replies.append([reply.get("text") for reply in assistant.say(tenant, number)])
    assert replies[0] == replies[1]
    assert "identifiant" in replies[0][0]


def test_forgot_password_emails_a_reset_link_that_works_once(assistant: Assistant):
    tenant, email = sender(), "claire.dupont@example.org"
    resets = len(assistant.emails(email, "Choisissez un nouveau mot de passe"))
    assistant.say_text(tenant, "j'ai oublié mon mot de passe")
    reply = assistant.say_text(tenant, email)
    assert "nouveau mot de passe" in reply and "mot de passe :" not in reply
    reset = assistant.wait_for_email(email, "Choisissez un nouveau mot de passe", seen=resets)
    (link,) = [link for link in reset["links"] if "/compte/nouveau-mot-de-passe" in link]
    page = assistant.http.get(link, headers={"Accept": "text/html"})
    fields = form_fields(page.text)
    done = assistant.http.post(
        link.split("?")[0],
        data={**fields, "mot_de_passe": NEW_PASSWORD, "confirmation": NEW_PASSWORD},
        headers={"Accept": "text/html"},
    )
    assert "Mot de passe enregistré" in done.text
    assistant.wait_for_email(email, "mot de passe a été modifié")


def test_missing_activation_email_is_resent(assistant: Assistant):
    tenant, email = sender(), "j.schmitt@example.org"
    assistant.say_text(tenant, "je n'ai pas reçu le mail d'activation")
    assert "nouvel e-mail d'activation" in assistant.say_text(tenant, email)
    assistant.wait_for_email(email, "Activez votre espace locataire")


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("où trouver mon numéro client ?", "avis d'échéance"),
        ("je déménage, que devient mon compte ?", "6 mois"),
        ("il y a une fuite d'eau dans ma cuisine", "agence"),
        ("es-tu un robot ?", "assistant automatique"),
        ("quels jours pour le prélèvement ?", "le 2, le 7 ou le 10"),
        ("je peux payer par carte ?", "Caisse d'Epargne Grand Est Europe"),
        ("où envoyer le mandat signé ?", "24 route de l'Hôpital"),
        ("combien de temps pour valider mon assurance ?", "48 h"),
        ("le paiement marche le week-end ?", "24 h/24"),
        ("c'est quoi l'adresse du siège ?", "Service DFC"),
    ],
)
def test_questions_are_answered_from_the_help_page(assistant: Assistant, message, expected):
    reply = assistant.say_text(sender(), message)
    assert expected in reply
    assert "vérifier" not in reply


def test_an_answer_offers_its_flow_and_the_button_starts_it(assistant: Assistant):
    tenant = sender()
    replies = assistant.say(tenant, "je peux etre preleve le 25 ?")
    assert "le 2, le 7 ou le 10" in replies[0]["text"]
    buttons = {b["title"]: b["payload"] for reply in replies for b in reply.get("buttons", [])}
    assert buttons == {"Le faire maintenant": "/setup_direct_debit"}
    assert "vérifier" in assistant.say_text(tenant, buttons["Le faire maintenant"])


def test_unclear_message_offers_topics_as_buttons(assistant: Assistant):
    replies = assistant.say(sender(), "euh alors bon voilà quoi")
    payloads = [b["payload"] for reply in replies for b in reply.get("buttons", [])]
    assert "/human_handoff" in payloads and len(payloads) >= 2
    assert "sujets" in replies[0]["text"]


def test_asking_for_a_person_is_recorded_for_the_staff(assistant: Assistant):
    tenant = sender()
    assistant.say_text(tenant, "comment payer mon loyer ?")
    assert "transmise" in assistant.say_text(tenant, "je veux parler à un humain")
    database = assistant.settings.var_dir / "portal.db"
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT channel, reason, topic FROM handoff_requests WHERE conversation_id = ?",
            (tenant,),
        ).fetchall()
    assert rows == [("rest", "tenant_asked", "pay_rent")]


def code_emails(assistant: Assistant, email: str) -> list[dict]:
    return [m for m in assistant.mailbox(email) if "code de vérification" in m["subject"]]


def emailed_code(assistant: Assistant, email: str, *, seen: int, timeout: float = 30) -> str:
    """The code in the newest verification email, once more than ``seen`` have arrived."""
    deadline = time.monotonic() + timeout
    while len(messages := code_emails(assistant, email)) <= seen:
        assert time.monotonic() < deadline, "no verification code email"
        time.sleep(0.2)
    return re.search(r"\b(\d{6})\b", messages[0]["text"]).group(1)


def test_balance_after_verifying_by_emailed_code(assistant: Assistant):
    tenant, email = sender(), "claire.dupont@example.org"
    seen = len(code_emails(assistant, email))
    assert "vérifier" in assistant.say_text(tenant, "combien je dois ?")
    assert "code à 6 chiffres" in assistant.say_text(tenant, email)
    code = emailed_code(assistant, email, seen=seen)
    wrong = "000000" if code != "000000" else "111111"
    assert "4 essai" in assistant.say_text(tenant, wrong)
    reply = assistant.say_text(tenant, code)
    assert "vérifié" in reply and "412,50" in reply
    # Verified now: asking again needs no new code.
    assert "412,50" in assistant.say_text(tenant, "et mon solde ?")


def test_pay_the_rent_in_chat_gets_a_signed_payment_page(assistant: Assistant):
    tenant, email = sender(), "claire.dupont@example.org"
    seen = len(code_emails(assistant, email))
    assert "vérifier" in assistant.say_text(tenant, "je veux payer mon loyer")
    assistant.say_text(tenant, email)
    asked = assistant.say(tenant, emailed_code(assistant, email, seen=seen))
    assert any("412,50" in reply.get("text", "") for reply in asked)
    assert "Confirmez" in assistant.say_text(tenant, "412,50")
    reply = assistant.say_text(tenant, "oui")
    (link,) = re.findall(r"http://\S+/paiement/\S+", reply)
    page = assistant.http.get(link, headers={"Accept": "text/html"})
    assert page.status_code == 200 and 'name="signature"' in page.text
    assert 'name="vads_amount" value="41250"' in page.text
    # Single use: the link cannot be opened twice.
    assert assistant.http.get(link, headers={"Accept": "text/html"}).status_code == 410
