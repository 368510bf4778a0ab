"""The help page, answered: questions about one fact get the right answer, without verification.

Two tables drive these tests:

- ``ISSUE_QUESTIONS`` and ``PHRASINGS``: how tenants ask (typos, no accents, SMS style, English)
  -> the ``faq/<key>`` that answers -> a fact that answer states. The trained model, loaded in
  process, must classify each as ``faq``, pick ``utter_faq/<key>`` and send an answer holding
  the fact: every one of the questions issue 10 reported, at least 90 % of the held-out
  phrasings (none of them is a training example). The dialogue answers without verification.
- ``FACTS``: every sentence of the help page (``tests/help_page_fr.txt``, a copy of
  ``../shared/seed/``) quoted next to the response that states it and the words that state it.
"""

from __future__ import annotations

import asyncio
import functools
import re
import unicodedata
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import parse

ROOT = Path(__file__).resolve().parents[1]
HELP_PAGE = ROOT / "tests" / "help_page_fr.txt"
SEED_PAGE = ROOT.parent / "shared" / "seed" / "000_31319c60c1aa4301.txt"

# (what a tenant writes, the faq key that answers it, a fact the answer must state)
# The questions issue 10 reported as starting a verification: trained on purpose.
ISSUE_QUESTIONS: list[tuple[str, str, str]] = [
    ("quels jours pour le prélèvement ?", "direct_debit_days", "le 2, le 7 ou le 10"),
    ("je peux payer par carte ?", "card_payment", "Caisse d'Epargne Grand Est Europe"),
    ("où envoyer le mandat signé ?", "send_signed_mandate", "24 route de l'Hôpital"),
    ("combien de temps pour valider mon assurance ?", "insurance_validation_delay", "48 h"),
    ("le paiement marche le week-end ?", "payment_hours", "24 h/24"),
    ("c'est quoi l'adresse du siège ?", "send_signed_mandate", "Service DFC"),
]
# Held out: none of these is a training example.
PHRASINGS: list[tuple[str, str, str]] = [
    # registration
    ("qui a le droit de s'inscrire sur l'extranet ?", "who_can_register", "tous les locataires"),
    (
        "mon mari a un compte deja, je dois men faire un ?",
        "one_account_per_household",
        "Une seule inscription",
    ),
    ("faut il un compte pour chaque personne du foyer", "one_account_per_household", "par foyer"),
    ("jai besoin de quoi pour minscrire", "register_prerequisites", "8 chiffres"),
    (
        "quels renseignements préparer avant l'inscription ?",
        "register_prerequisites",
        "adresse e-mail valide",
    ),
    ("je mets le nom de qui dans le formulaire ?", "signatory_name", "signataire principal"),
    ("c koi le site de l espace locataire", "extranet_address", "https://monespace.ophea.fr/"),
    ("le lien du site pour s inscrire svp", "extranet_address", "https://monespace.ophea.fr/"),
    (
        "si je clique pas sur le lien dans le mail ca fait quoi",
        "activation_link_required",
        "impérativement",
    ),
    (
        "une fois mon compte activé je reçois un mail ?",
        "registration_confirmation_email",
        "confirmation d'inscription",
    ),
    # logging in, identifiers, passwords
    (
        "on se connecte avec le mail ou le numero client ?",
        "login_credentials",
        "adresse e-mail et le mot de passe",
    ),
    ("il est ou le lien identifiants oublies", "recover_credentials_where", "identifiants oubliés"),
    (
        "pour recuperer mon identifiant on demande koi",
        "forgot_identifier_needs",
        "signataire principal du contrat",
    ),
    (
        "mot de passe oublié, le mail de réinitialisation arrive où ?",
        "password_reset_email",
        "adresse e-mail utilisée lors de votre inscription",
    ),
    ("ou on modifie l identifiant sur le site", "change_identifier_where", "en haut à droite"),
    (
        "la page pour changer le mot de passe c'est laquelle ?",
        "change_password_where",
        "MON DOSSIER",
    ),
    # home insurance
    ("l'assurance habitation ça se met à jour où ?", "insurance_where", "MON DOSSIER"),
    ("pq le formulaire assurance est deja rempli", "insurance_prefilled", "pré-remplis"),
    (
        "c'est quoi les champs obligatoires pour l'assurance ?",
        "insurance_required_fields",
        "numéro de police",
    ),
    ("mon assureur est pas dans la liste deroulante", "insurer_not_listed", "saisit librement"),
    ("l'attestation en photo c'est accepté ?", "insurance_certificate_format", ".pdf"),
    ("attestation assurance format jpeg possible ?", "insurance_certificate_format", ".pdf"),
    ("sous combien de temps mon attestation est validee", "insurance_validation_delay", "48 h"),
    (
        "on me demande des infos en plus pour mon assurance",
        "insurance_more_info",
        "information complémentaire",
    ),
    # direct debit
    ("le prélèvement ça se demande sur quelle page ?", "direct_debit_where", "MON LOYER"),
    ("pour etre prelevé faut fournir quoi", "direct_debit_requirements", "IBAN"),
    ("kel date pour le prelevement auto", "direct_debit_days", "le 2, le 7 ou le 10"),
    ("je peux etre preleve le 25 ?", "direct_debit_days", "le 2, le 7 ou le 10"),
    ("j ai recu un mandat sepa je dois en faire quoi", "sepa_mandate", "signer"),
    (
        "le mandat signé je l'envoie à quelle adresse ?",
        "send_signed_mandate",
        "24 route de l'Hôpital",
    ),
    ("une copie du rib ca va ?", "rib_needed", "RIB original"),
    (
        "le prélèvement met combien de temps à être mis en place ?",
        "direct_debit_delay",
        "quelques jours",
    ),
    # reaching a person: the page gives no phone, hours or agency address
    ("c'est quoi le téléphone de l'agence ?", "contact_details", "conseiller"),
    ("quels sont vos horaires d'ouverture ?", "contact_details", "ne les donne pas"),
    # paying online
    ("on peut payer le loyer la nuit ?", "payment_hours", "24 h/24"),
    ("je peux payer un dimanche ?", "payment_hours", "24 h/24"),
    ("il est ou le bouton payer en ligne sur le site", "payment_where", "MON LOYER"),
    (
        "le paiement passe par quelle banque ?",
        "payment_platform",
        "Caisse d'Epargne Grand Est Europe",
    ),
    ("c securisé de payer sur le site ?", "payment_platform", "sécurisé"),
    ("paiement par cb c possible", "card_payment", "Caisse d'Epargne Grand Est Europe"),
    ("je vous donne mon numero de carte ?", "card_payment", "jamais"),
    ("quelles sont les etapes du paiement en ligne", "payment_steps", "bail concerné"),
    ("je peux payer que la moitié du loyer ?", "payment_steps", "montant à payer"),
    (
        "je vais recevoir un mail apres mon paiement ?",
        "payment_confirmation",
        "e-mail de confirmation",
    ),
    ("j'ai payé mais mon compte est pas à jour", "payment_account_update", "48 h"),
    (
        "combien de temps avant que mon paiement apparaisse sur le compte ?",
        "payment_account_update",
        "48 h",
    ),
    ("une alerte impayé s'affiche en page d'accueil", "unpaid_alert", "chargé de clientèle"),
    # unsubscribing
    ("ou sont les cgu", "unsubscribe_cgu", "conditions générales d'utilisation"),
    ("le lien desinscription il est ou ?", "unsubscribe_where", "en bas de page"),
    (
        "si je me desinscris je pourrais revenir plus tard ?",
        "recreate_account",
        "mêmes identifiants",
    ),
    # English
    ("which days can I be debited?", "direct_debit_days", "le 2, le 7 ou le 10"),
    ("can I pay by credit card?", "card_payment", "Caisse d'Epargne Grand Est Europe"),
    ("where do I send the signed SEPA mandate?", "send_signed_mandate", "24 route de l'Hôpital"),
    ("how long does the insurance validation take?", "insurance_validation_delay", "48 h"),
    (
        "what is the address of the tenant website?",
        "extranet_address",
        "https://monespace.ophea.fr/",
    ),
]

# The sentences of the help page that state no fact (a title, two lead-ins to a list).
NOT_FACTS = {"Assistance", "Pour ce faire, vous devez :", "Il vous sera alors demandé de :"}

# (words quoted from the help page, the response that states them, words of that response)
FACTS: list[tuple[str, str, str]] = [
    (
        "s'applique à tous les locataires d'Ophéa",
        "utter_faq/who_can_register",
        "tous les locataires d'Ophéa",
    ),
    (
        "Une seule inscription à l'extranet est nécessaire par foyer",
        "utter_faq/one_account_per_household",
        "Une seule inscription à l'extranet est nécessaire",
    ),
    (
        "Numéro client sur 8 chiffres (présent sur votre avis d'échéance)",
        "utter_faq/register_prerequisites",
        "numéro client sur 8 chiffres (présent sur votre avis",
    ),
    ("d'une adresse e-mail valide", "utter_faq/register_prerequisites", "adresse e-mail valide"),
    (
        "du nom de famille du signataire principal de votre logement",
        "utter_faq/register_prerequisites",
        "nom de famille du signataire principal",
    ),
    (
        "du nom de famille du signataire principal",
        "utter_faq/signatory_name",
        "nom de famille du signataire principal",
    ),
    (
        "https://monespace.ophea.fr/ et compléter le formulaire d'inscription",
        "utter_faq/extranet_address",
        "https://monespace.ophea.fr/",
    ),
    (
        "compléter le formulaire d'inscription",
        "utter_faq/extranet_address",
        "formulaire d'inscription",
    ),
    (
        "Cliquer impérativement sur le lien envoyé par courrier électronique",
        "utter_faq/activation_link_required",
        "impérativement cliquer",
    ),
    (
        "un courrier électronique de confirmation d'inscription vous sera envoyé",
        "utter_faq/registration_confirmation_email",
        "e-mail de confirmation d'inscription",
    ),
    (
        "Vous pourrez ainsi vous connecter à votre espace locataire personnel",
        "utter_faq/registration_confirmation_email",
        "vous connecter",
    ),
    (
        "page d'accueil de connexion de votre espace locataire à https://monespace.ophea.fr/",
        "utter_login_help",
        "https://monespace.ophea.fr/",
    ),
    (
        "saisissez votre email et votre mot de passe précédemment renseignés",
        "utter_faq/login_credentials",
        "adresse e-mail et le mot de passe que vous avez renseignés",
    ),
    (
        "récupérer vos identifiants et votre mot de passe depuis la page d'accueil de connexion",
        "utter_faq/recover_credentials_where",
        "à tout moment récupérer votre identifiant",
    ),
    (
        "cliquez sur le lien identifiants oubliés",
        "utter_faq/recover_credentials_where",
        "« identifiants oubliés ? »",
    ),
    (
        "renseignez le nom du signataire principal du contrat",
        "utter_faq/forgot_identifier_needs",
        "nom du signataire principal du contrat",
    ),
    (
        "Numéro client sur 8 positions (présent sur votre avis d'échéance et sur votre bail)",
        "utter_faq/forgot_identifier_needs",
        "sur votre avis d'échéance et sur votre bail",
    ),
    (
        "sur votre avis d'échéance et sur votre bail",
        "utter_find_client_number",
        "avis d'échéance et sur votre bail",
    ),
    (
        "cliquez sur le lien mot de passe oublié",
        "utter_faq/recover_credentials_where",
        "« mot de passe oublié ? »",
    ),
    (
        "renseignez l'adresse mail utilisée lors de votre inscription",
        "utter_faq/password_reset_email",
        "adresse e-mail utilisée lors de votre inscription",
    ),
    (
        "un courrier électronique vous sera envoyé à l'adresse indiquée",
        "utter_faq/password_reset_email",
        "Un e-mail vous est envoyé à cette adresse",
    ),
    (
        "choisir un nouveau mot de passe",
        "utter_faq/password_reset_email",
        "choisir un nouveau mot de passe",
    ),
    (
        "à tout moment modifier vos identifiants et mot de passe une fois connecté",
        "utter_faq/change_identifier_where",
        "à tout moment une fois connecté",
    ),
    (
        "à tout moment modifier vos identifiants et mot de passe une fois connecté",
        "utter_faq/change_password_where",
        "à tout moment une fois connecté",
    ),
    (
        "cliquez sur votre nom en haut à droite de la page d'accueil",
        "utter_faq/change_identifier_where",
        "votre nom en haut à droite",
    ),
    (
        "puis sur modifier identifiant",
        "utter_faq/change_identifier_where",
        "« modifier identifiant »",
    ),
    (
        "allez sur la page MON DOSSIER et cliquez sur modifier mon mot de passe",
        "utter_faq/change_password_where",
        "page MON DOSSIER",
    ),
    (
        "dans la rubrique mes informations personnelles",
        "utter_faq/change_password_where",
        "« mes informations personnelles »",
    ),
    (
        "mettre à jour votre assurance habitation directement depuis votre espace locataire",
        "utter_faq/insurance_where",
        "directement depuis votre espace locataire",
    ),
    ("à partir de la page MON DOSSIER", "utter_faq/insurance_where", "page MON DOSSIER"),
    (
        "l'ensemble des champs sera pré-renseigné",
        "utter_faq/insurance_prefilled",
        "tous les champs sont pré-remplis",
    ),
    (
        "votre ancienne assurance habitation arrivée à échéance",
        "utter_faq/insurance_prefilled",
        "ancienne assurance habitation arrivée à échéance",
    ),
    (
        "le nom de la compagnie d'assurance (liste déroulante ou saisie libre)",
        "utter_faq/insurance_required_fields",
        "(liste déroulante ou saisie libre)",
    ),
    ("liste déroulante ou saisie libre", "utter_faq/insurer_not_listed", "saisit librement"),
    (
        "le numéro de police d'assurance et la date de validité",
        "utter_faq/insurance_required_fields",
        "numéro de police d'assurance, la date de validité",
    ),
    (
        "joignez impérativement l'attestation d'assurance",
        "utter_faq/insurance_required_fields",
        "l'attestation d'assurance jointe",
    ),
    ("en format numérique (.pdf)", "utter_faq/insurance_certificate_format", "(fichier .pdf)"),
    (
        "Vérifiez votre saisie puis sauvegardez",
        "utter_faq/insurance_validation_delay",
        "saisie sauvegardée",
    ),
    (
        "transmise aux équipes d'Ophéa pour acceptation et mise à jour dans un délai de 48h",
        "utter_faq/insurance_validation_delay",
        "équipes d'Ophéa",
    ),
    ("dans un délai de 48h", "utter_faq/insurance_validation_delay", "dans un délai de 48 h"),
    (
        "une demande d'information complémentaire pourra vous être adressée",
        "utter_faq/insurance_more_info",
        "demande d'information complémentaire",
    ),
    (
        "bouton souscrire au prélèvement automatique accessible sur la page MON LOYER",
        "utter_faq/direct_debit_where",
        "« souscrire au prélèvement automatique » de la page MON",
    ),
    (
        "Renseigner l'IBAN et le nom de votre banque",
        "utter_faq/direct_debit_requirements",
        "l'IBAN et le nom de votre banque",
    ),
    ("Compléter vos coordonnées", "utter_faq/direct_debit_requirements", "vos coordonnées"),
    ("(le 2, le 7 ou le 10 du mois)", "utter_faq/direct_debit_days", "le 2, le 7 ou le 10 du mois"),
    (
        "joindre votre RIB en pièce jointe",
        "utter_faq/direct_debit_requirements",
        "votre RIB en pièce jointe",
    ),
    ("joindre votre RIB en pièce jointe", "utter_faq/rib_needed", "en pièce jointe"),
    (
        "vérifier les informations saisies",
        "utter_faq/direct_debit_requirements",
        "vérifiez ensuite vos informations",
    ),
    ("en cliquant sur le bouton valider", "utter_faq/direct_debit_requirements", "« valider »"),
    (
        "Un mail comprenant un mandat SEPA prérempli vous sera adressé",
        "utter_faq/sepa_mandate",
        "par e-mail un mandat SEPA pré-rempli",
    ),
    ("Il vous suffira de le signer", "utter_faq/sepa_mandate", "suffit de le signer"),
    ("avec un RIB original", "utter_faq/send_signed_mandate", "avec un RIB original"),
    ("avec un RIB original", "utter_faq/rib_needed", "un RIB original"),
    (
        "soit au siège Service DFC 24 route de l'Hôpital",
        "utter_faq/send_signed_mandate",
        "au siège : Service DFC, 24 route de l'Hôpital",
    ),
    ("soit dans votre agence", "utter_faq/send_signed_mandate", "soit dans votre agence"),
    (
        "Un délai de quelques jours sera alors nécessaire",
        "utter_faq/direct_debit_delay",
        "un délai de quelques jours est nécessaire",
    ),
    ("Deux possibilités s'offrent à vous", "utter_faq/payment_where", "Deux possibilités"),
    ("accéder 24h/24 au service de paiement en ligne", "utter_faq/payment_hours", "24 h/24"),
    (
        "depuis la page d'accueil de votre espace locataire en cliquant sur le bouton payer",
        "utter_faq/payment_where",
        "directement sur la page d'accueil",
    ),
    (
        "depuis la page MON LOYER en cliquant sur le bouton payer en ligne",
        "utter_faq/payment_where",
        "sur la page MON LOYER",
    ),
    (
        "redirigé vers une plateforme de service en ligne proposé par la Caisse d'Epargne",
        "utter_faq/payment_platform",
        "plateforme de paiement proposée par la Caisse d'Epargne",
    ),
    (
        "Caisse d'Epargne Grand Est Europe",
        "utter_faq/card_payment",
        "Caisse d'Epargne Grand Est Europe",
    ),
    (
        "Votre règlement sera totalement sécurisé",
        "utter_faq/payment_platform",
        "totalement sécurisé",
    ),
    ("Trois étapes pour effectuer le paiement", "utter_faq/payment_steps", "trois étapes"),
    ("Choisissez le bail concerné", "utter_faq/payment_steps", "choisissez le bail concerné"),
    ("Indiquez le montant à payer", "utter_faq/payment_steps", "indiquez le montant à payer"),
    ("Validez votre règlement", "utter_faq/payment_steps", "validez votre règlement"),
    (
        "un e-mail de confirmation du traitement de votre paiement",
        "utter_faq/payment_confirmation",
        "e-mail de confirmation du traitement de votre paiement",
    ),
    (
        "mis à jour dans un délai de 48h à réception des informations",
        "utter_faq/payment_account_update",
        "dans un délai de 48 h à réception",
    ),
    (
        "une alerte en page d'accueil",
        "utter_faq/unpaid_alert",
        "une alerte s'affiche sur la page d'accueil",
    ),
    (
        "payer votre loyer en ligne ou à contacter votre chargé de clientèle",
        "utter_faq/unpaid_alert",
        "payer votre loyer en ligne ou à contacter votre chargé",
    ),
    (
        "conditions générales d'utilisation (CGU) validées lors de votre inscription",
        "utter_faq/unsubscribe_cgu",
        "(CGU), que vous avez validées lors de votre inscription",
    ),
    (
        "accessibles à tout moment sur le site en bas de page",
        "utter_faq/unsubscribe_cgu",
        "accessibles à tout moment en bas de page",
    ),
    (
        "cliquez sur le lien « désinscription » en bas de page",
        "utter_faq/unsubscribe_where",
        "« désinscription » en bas de page",
    ),
    (
        "validez votre demande de désinscription",
        "utter_faq/unsubscribe_where",
        "validez votre demande de désinscription",
    ),
    (
        "recréer votre compte ultérieurement avec les mêmes identifiants",
        "utter_faq/recreate_account",
        "recréer votre compte ultérieurement, avec les mêmes",
    ),
    (
        "votre compte sera désactivé dans un délai de 6 mois après votre date de sortie",
        "utter_move_out",
        "désactivé 6 mois après votre date de sortie",
    ),
]


def plain(text: str) -> str:
    """One spelling for quotes, apostrophes and spaces (the page uses typographic ones)."""
    text = unicodedata.normalize("NFC", text).replace("\u2019", "'").replace("\u00a0", " ")
    return re.sub(r"\s+", " ", text).strip()


def page_sentences() -> list[str]:
    sentences = []
    for line in HELP_PAGE.read_text(encoding="utf-8").splitlines():
        line = plain(line).lstrip("• ").strip()
        sentences += [s for s in re.split(r"(?<=[.?:])\s+(?=[A-Z])", line) if s]
    return sentences


@functools.cache
def domain() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def response_text(name: str) -> str:
    return plain(domain()["responses"][name][0]["text"])


# --------------------------------------------------------------------------- the page


def test_the_help_page_copy_is_the_seed():
    if not SEED_PAGE.exists():
        pytest.skip(f"{SEED_PAGE} is not on this machine")
    assert HELP_PAGE.read_bytes() == SEED_PAGE.read_bytes()


def test_every_fact_quoted_is_on_the_help_page():
    page = plain(HELP_PAGE.read_text(encoding="utf-8"))
    assert [quote for quote, _, _ in FACTS if plain(quote) not in page] == []


def test_every_sentence_of_the_help_page_is_answered():
    quotes = [plain(quote) for quote, _, _ in FACTS]
    unanswered = [
        sentence
        for sentence in page_sentences()
        if sentence not in NOT_FACTS and not any(quote in sentence for quote in quotes)
    ]
    assert unanswered == []


@pytest.mark.parametrize(("quote", "response", "words"), FACTS)
def test_each_fact_is_stated_by_its_response(quote: str, response: str, words: str):
    assert plain(words) in response_text(response)


def test_every_faq_answer_states_a_fact_of_the_page():
    """No answer is only a paraphrase: each is in the FACTS table, or explains a gap of the page."""
    stated = {response for _, response, _ in FACTS}
    answers = {name for name in domain()["responses"] if name.startswith("utter_faq/")}
    assert answers - stated == {"utter_faq/contact_details"}


# --------------------------------------------------------------------------- the model


def test_the_phrasings_are_not_training_examples():
    trained = set()
    for path in (ROOT / "data" / "nlu").glob("*.yml"):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            for line in block.get("examples", "").splitlines():
                trained.add(line.strip().removeprefix("- ").strip().lower())
    assert [text for text, _, _ in PHRASINGS if text.lower() in trained] == []


@pytest.fixture(scope="module")
def agent(trained_agent: Any) -> Any:
    return trained_agent


async def chat(agent: Any, text: str) -> list[dict[str, Any]]:
    """The replies to ``text`` as the first message of a conversation.

    The session is opened here as action_session_start (a custom action of the action server,
    absent from this test) would open it, so that the dialogue policies see what they see live.
    """
    from rasa.shared.core.events import ActionExecuted, SessionStarted
    from rasa.shared.core.trackers import DialogueStateTracker

    sender = f"faq-test-{uuid.uuid4().hex[:8]}"
    started = [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
    ]
    tracker = DialogueStateTracker.from_events(sender, started, slots=agent.domain.slots)
    await agent.tracker_store.save(tracker)
    return await agent.handle_text(text, sender_id=sender)


@pytest.fixture(scope="module")
def parsed(agent: Any) -> dict[str, dict[str, Any]]:
    return {text: parse(agent, text) for text, _, _ in ISSUE_QUESTIONS + PHRASINGS}


def answered(result: dict[str, Any], key: str, fact: str) -> bool:
    """``faq`` was recognised, ``faq/<key>`` picked, and the answer sent states ``fact``."""
    if result["intent"]["name"] != "faq":
        return False
    selected = result["response_selector"]["faq"]["response"]
    return (
        selected["intent_response_key"] == f"faq/{key}"
        and selected["utter_action"] == f"utter_faq/{key}"
        and plain(fact) in plain(selected["responses"][0]["text"])
    )


@pytest.mark.parametrize(("text", "key", "fact"), ISSUE_QUESTIONS + PHRASINGS)
def test_each_expected_answer_states_its_fact(text: str, key: str, fact: str):
    assert plain(fact) in response_text(f"utter_faq/{key}")


@pytest.mark.parametrize(("text", "key", "fact"), ISSUE_QUESTIONS)
def test_the_questions_of_issue_10_get_their_answer(parsed, text: str, key: str, fact: str):
    assert answered(parsed[text], key, fact), parsed[text]["intent"]


#: Held-out phrasings are a measure, not a list of promises: a retrain moves a few of them across
#: a boundary (e.g. "j'ai payé mais mon compte est pas à jour" vs check_balance). 56 to 59 of 61
#: were right over the last retrains; below 90 % something is wrong.
MIN_HELD_OUT_RIGHT = 0.90


def test_held_out_phrasings_get_the_right_answer(parsed):
    missed = [
        (text, key, parsed[text]["intent"]["name"], selected_key(parsed[text]))
        for text, key, fact in PHRASINGS
        if not answered(parsed[text], key, fact)
    ]
    right = len(PHRASINGS) - len(missed)
    print(f"\nheld-out FAQ phrasings answered right: {right}/{len(PHRASINGS)}")
    assert right >= MIN_HELD_OUT_RIGHT * len(PHRASINGS), missed


def selected_key(result: dict[str, Any]) -> str:
    return result["response_selector"]["faq"]["response"]["intent_response_key"]


@pytest.mark.parametrize(
    ("text", "fact", "payload"),
    [
        ("quels jours pour le prélèvement ?", "le 2, le 7 ou le 10", "/setup_direct_debit"),
        ("je peux payer par carte ?", "Caisse d'Epargne Grand Est Europe", "/pay_rent"),
        ("combien de temps pour valider mon assurance ?", "48 h", "/update_insurance"),
        ("le paiement marche le week-end ?", "24 h/24", "/pay_rent"),
        ("où envoyer le mandat signé ?", "24 route de l'Hôpital", None),
    ],
)
def test_the_dialogue_answers_without_verification_and_offers_the_flow(
    agent: Any, text: str, fact: str, payload: str | None
):
    replies = asyncio.run(chat(agent, text))
    said = plain(" ".join(reply.get("text", "") for reply in replies))
    assert plain(fact) in said
    assert "vérifier" not in said
    buttons = [button["payload"] for reply in replies for button in reply.get("buttons", [])]
    if payload:
        assert payload in buttons
