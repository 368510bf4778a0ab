"""What must and must not be masked, as tables; then serialised Rasa events."""

from __future__ import annotations

import pytest

from bot.privacy.redaction import (
    CARD_MARK,
    CODE_MARK,
    CVV_MARK,
    IBAN_MARK,
    PASSWORD_MARK,
    TOKEN_MARK,
    VALUE_MARK,
    is_iban,
    luhn_valid,
    redact_event,
    redact_text,
)

IBAN_FR = "FR76 3000 6000 0112 3456 7890 189"
TOKEN = "Xk3J9fQ2LmN8pR4tVw7yZ1aB-c_5dE6fG7hI8jK9"  # secrets.token_urlsafe(30)-like

MASKED = [
    # IBANs: any country, spaces or not, any case, mistyped checksum too
    (IBAN_FR, IBAN_MARK),
    ("FR7630006000011234567890189", IBAN_MARK),
    ("fr76 3000 6000 0112 3456 7890 189", IBAN_MARK),
    ("mon IBAN : FR76-3000-6000-0112-3456-7890-189, merci", f"mon IBAN : {IBAN_MARK}, merci"),
    (
        "voici FR76 3000 6000 0112 3456 7890 189 pour le prélèvement",
        f"voici {IBAN_MARK} pour le prélèvement",
    ),
    ("FR76 3000 6000 0112 3456 7890 188", IBAN_MARK),  # one digit off: still an account
    ("DE89 3704 0044 0532 0130 00", IBAN_MARK),
    ("GB82 WEST 1234 5698 7654 32", IBAN_MARK),
    ("BE68 5390 0754 7034", IBAN_MARK),
    ("NO93 8601 1117 947", IBAN_MARK),
    ("IT60 X054 2811 1010 0000 0123 456", IBAN_MARK),
    ("MT84 MALT 0110 0001 2345 MTLC AST0 01S", IBAN_MARK),
    ("IBAN:ES9121000418450200051332.", f"IBAN:{IBAN_MARK}."),
    # card numbers: 13-19 digits, Luhn-valid, contiguous or grouped
    ("4970 1012 3456 7893", CARD_MARK),
    ("ma carte 4111111111111111 exp 12/27", f"ma carte {CARD_MARK} exp 12/27"),
    ("4111-1111-1111-1111", CARD_MARK),
    ("3782 822463 10005", CARD_MARK),  # American Express, 4-6-5
    ("4222222222222", CARD_MARK),  # 13 digits
    ("4111 1111 1111 1111 110", CARD_MARK),  # 19 digits
    ("carte 5555 5555 5555 4444 et client 12345678", f"carte {CARD_MARK} et client 12345678"),
    # one-time codes, when the message is essentially a code or speaks of one
    ("123456", CODE_MARK),
    ("123 456", CODE_MARK),
    ("mon code est 123 456", f"mon code est {CODE_MARK}"),
    ("le code reçu par SMS : 654-321", f"le code reçu par SMS : {CODE_MARK}"),
    ("c'est 987654 merci", f"c'est {CODE_MARK} merci"),
    ("Code de vérification 000111.", f"Code de vérification {CODE_MARK}."),
    # link tokens, bearer tokens, long random strings
    (
        "https://portail.example.org/compte/activer?jeton=Ab3_dEf-9hIjKlMn",
        f"https://portail.example.org/compte/activer?jeton={TOKEN_MARK}",
    ),
    (
        "/compte/nouveau-mot-de-passe?x=1&token=abc123&y=2",
        f"/compte/nouveau-mot-de-passe?x=1&token={TOKEN_MARK}&y=2",
    ),
    (
        f"https://portail.example.org/paiement/{TOKEN}",
        f"https://portail.example.org/paiement/{TOKEN_MARK}",
    ),
    (f"lien /depot/{TOKEN} reçu", f"lien /depot/{TOKEN_MARK} reçu"),
    ("Authorization: Bearer s3cr3t-service-token.value", f"Authorization: Bearer {TOKEN_MARK}"),
    (
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        TOKEN_MARK,
    ),
    (f"mon jeton {TOKEN}", f"mon jeton {TOKEN_MARK}"),
    ("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", TOKEN_MARK),
    ("AbCdEfGhIjKlMnOpQrStUvWxYz", TOKEN_MARK),  # no digit, but case changes throughout
]

#: Formats the review of issue 9 typed and saw stored in clear.
MASKED_SINCE_ISSUE_9 = [
    # an IBAN spaced after its country code (the portal accepts it), or dotted
    ("FR 76 3000 6000 0112 3456 7890 189", IBAN_MARK),
    ("mon iban fr 76 3000 6000 0112 3456 7890 189 merci", f"mon iban {IBAN_MARK} merci"),
    ("FR76.3000.6000.0112.3456.7890.189", IBAN_MARK),
    ("DE 89 3704 0044 0532 0130 00", IBAN_MARK),
    # card numbers in dotted groups
    ("4970.1012.3456.7893", CARD_MARK),
    ("ma carte : 5555.5555.5555.4444.", f"ma carte : {CARD_MARK}."),
    # the card security code
    ("cvv 123", f"cvv {CVV_MARK}"),
    ("CVC: 1234", f"CVC: {CVV_MARK}"),
    ("le cryptogramme c'est 456", f"le cryptogramme c'est {CVV_MARK}"),
    ("cryptogramme visuel : 789 merci", f"cryptogramme visuel : {CVV_MARK} merci"),
    ("code de sécurité 321", f"code de sécurité {CVV_MARK}"),
    # passwords typed despite everything
    ("mon mot de passe c'est Soleil2024!", f"mon mot de passe c'est {PASSWORD_MARK}"),
    ("mon mot de passe c’est soleil", f"mon mot de passe c’est {PASSWORD_MARK}"),
    ("Mon mot de passe est toto, je crois", f"Mon mot de passe est {PASSWORD_MARK} je crois"),
    ("mdp : azerty123", f"mdp : {PASSWORD_MARK}"),
    ("mdp=Azerty!", f"mdp={PASSWORD_MARK}"),
    ("password: hunter2", f"password: {PASSWORD_MARK}"),
    (
        'mon nouveau mot de passe sera "le chat noir 42" ok ?',
        f"mon nouveau mot de passe sera {PASSWORD_MARK} ok ?",
    ),
    # one-time codes typed with spaces between any digits
    ("1 2 3 4 5 6", CODE_MARK),
    ("12 34 56", CODE_MARK),
    ("le code est 1 2 3 4 5 6", f"le code est {CODE_MARK}"),
    ("code 12-34-56", f"code {CODE_MARK}"),
    ("mon code : 12.34.56", f"mon code : {CODE_MARK}"),
]

KEPT_SINCE_ISSUE_9 = [
    "j'ai oublié mon mot de passe",
    "mon mot de passe est bloqué",
    "mon mot de passe ne marche pas",
    "le mot de passe est refusé depuis hier",
    "changer de mot de passe : comment faire ?",
    "le 12 34 56 78 90 est mon numéro",  # ten digits: a phone number, not a code
    "code postal 67 000",
    "j'ai 3 enfants et un loyer de 540 €",
    "de 1.234.567 habitants",
    "version 1.2.3.4.5.6.7.8.9.10.11.12.13",
]

KEPT = [
    "mon numéro client est 12345678",
    "12 345 678",
    "12.34.56.78",
    "87654321 12345676",  # two client numbers: Luhn-valid together, but not grouped like a card
    "j'ai payé 412,50 € le 05/03/2024",
    "le solde est de 412.50 EUR",
    "j'ai 123456 euros de dettes",
    "il me reste 123456,00 à payer",
    "appelez le 06 12 34 56 78 ou le 0612345678",
    "06 12 34 56 78 06 12 34 56 78",
    "le loyer de 540,00 € pour le logement 123456 rue des Lilas à payer avant le 10",
    "4111 1111 1111 1112",  # not Luhn-valid
    "FR12 3456",  # too short for an IBAN
    "XX76 3000 6000 0112 3456 7890 189",  # no such country
    "je voudrais souscrire au prélèvement automatique",
    "anticonstitutionnellement, ANTICONSTITUTIONNELLEMENT",
    "LexicalSyntacticFeaturizer register_form_client_number utter_ask_activation_resend_form_email",
    "123e4567-e89b-12d3-a456-426614174000",  # a UUID identifies, it does not unlock
    "https://portail.example.org/paiement/retour",
    "https://portail.example.org/compte/activer",
    "claire.dupont@example.org",
    "code postal 75001",
    # policy numbers: digits glued to letters are identifiers, not a code typed alone
    "P-000123",
    "ma police est AB123456",
    "police n° MAIF/123456",
    "",
]


@pytest.mark.parametrize(("text", "expected"), MASKED + MASKED_SINCE_ISSUE_9)
def test_masks(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize("text", KEPT + KEPT_SINCE_ISSUE_9)
def test_keeps(text: str) -> None:
    assert redact_text(text) == text


@pytest.mark.parametrize(("text", "_expected"), MASKED + MASKED_SINCE_ISSUE_9)
def test_is_idempotent(text: str, _expected: str) -> None:
    once = redact_text(text)
    assert redact_text(once) == once


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Received user message '123456' with intent 'inform'", f"'{CODE_MARK}'"),
        ("the worker process 123456 has started", CODE_MARK),
    ],
)
def test_strict_codes_mask_any_six_digits(text: str, expected: str) -> None:
    assert redact_text(text) == text  # among many words, 6 digits are not a code...
    assert expected in redact_text(text, strict_codes=True)  # ...unless told (log lines)


def test_strict_codes_keep_client_numbers_and_amounts() -> None:
    text = "client 12345678 owes 412,50 EUR, 123456 euros"
    assert redact_text(text, strict_codes=True) == text


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("FR7630006000011234567890189", True),
        ("fr7630006000011234567890189", True),
        ("FR7630006000011234567890188", True),  # checksum typo
        ("FR76300060000112345678901", False),  # wrong length for France
        ("XX7630006000011234567890189", False),
        ("1234567812345678", False),
    ],
)
def test_is_iban(candidate: str, expected: bool) -> None:
    assert is_iban(candidate) is expected


@pytest.mark.parametrize(
    ("digits", "expected"),
    [("4111111111111111", True), ("4111111111111112", False), ("378282246310005", True)],
)
def test_luhn(digits: str, expected: bool) -> None:
    assert luhn_valid(digits) is expected


# --------------------------------------------------------------------------- events


def user_event(text: str, **extra: object) -> dict:
    return {
        "event": "user",
        "timestamp": 1.0,
        "text": text,
        "parse_data": {
            "text": text,
            "intent": {"name": "inform", "confidence": 0.9},
            "entities": [
                {"entity": "iban", "value": "FR7630006000011234567890189", "start": 0, "end": 27},
                {"entity": "client_number", "value": "12345678", "start": 30, "end": 38},
            ],
            "message_id": "9f86d081884c7d659a2feaa0c55ad015",
        },
        "input_channel": "rest",
        "message_id": "9f86d081884c7d659a2feaa0c55ad015",
        "metadata": {"raw": {"message": {"text": text}}, "sid": "abc"},
        **extra,
    }


def test_user_event_text_entities_and_metadata() -> None:
    text = f"{IBAN_FR} et ma carte 4111 1111 1111 1111"
    event = user_event(text)
    redacted = redact_event(event)

    expected = f"{IBAN_MARK} et ma carte {CARD_MARK}"
    assert redacted["text"] == expected
    assert redacted["parse_data"]["text"] == expected
    assert redacted["parse_data"]["entities"][0]["value"] == IBAN_MARK
    assert redacted["parse_data"]["entities"][1]["value"] == "12345678"
    assert redacted["metadata"] == {"raw": {"message": {"text": expected}}, "sid": "abc"}
    # what Rasa needs to rebuild the tracker stays
    assert redacted["message_id"] == event["message_id"]
    assert redacted["parse_data"]["intent"] == event["parse_data"]["intent"]
    assert redacted["parse_data"]["message_id"] == event["parse_data"]["message_id"]
    assert event["text"] == text, "the original must not be mutated"
    assert event["parse_data"]["entities"][0]["value"].startswith("FR76")


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("iban", "FR7630006000011234567890189", IBAN_MARK),
        ("iban", "n'importe quoi", IBAN_MARK),  # a sensitive slot is masked whatever it holds
        ("card_number", "4111111111111111", CARD_MARK),
        ("verification_code", "123456", CODE_MARK),
        ("session_token", "abc", TOKEN_MARK),
        ("iban", None, None),  # a reset stays a reset
        ("client_number", "12345678", "12345678"),
        ("email", "claire.dupont@example.org", "claire.dupont@example.org"),
        ("surname", f"Dupont {IBAN_FR}", f"Dupont {IBAN_MARK}"),
        ("input_failures", 2.0, 2.0),
        ("requested_slot", "iban", "iban"),
        ("notes", ["4111 1111 1111 1111", {"k": "123456"}], [CARD_MARK, {"k": CODE_MARK}]),
    ],
)
def test_slot_event(name: str, value: object, expected: object) -> None:
    event = {"event": "slot", "timestamp": 1.0, "name": name, "value": value}
    assert redact_event(event) == {**event, "value": expected}


def test_sensitive_slots_are_configurable() -> None:
    event = {"event": "slot", "timestamp": 1.0, "name": "secret_word", "value": "ouvre-toi"}
    assert redact_event(event, sensitive_slots={"secret_word"})["value"] == VALUE_MARK
    assert redact_event(event)["value"] == "ouvre-toi"


def test_bot_event_text_and_data() -> None:
    event = {
        "event": "bot",
        "timestamp": 1.0,
        "text": f"Vous avez saisi {IBAN_FR}.",
        "data": {"buttons": [{"title": "Payer", "payload": f"/paiement/{TOKEN}"}], "custom": None},
        "metadata": {"utter_action": "utter_iban_received"},
    }
    redacted = redact_event(event)
    assert redacted["text"] == f"Vous avez saisi {IBAN_MARK}."
    assert redacted["data"]["buttons"][0]["payload"] == f"/paiement/{TOKEN_MARK}"
    assert redacted["metadata"] == event["metadata"]


@pytest.mark.parametrize(
    "event",
    [
        {"event": "action", "timestamp": 1.0, "name": "action_listen", "policy": None},
        {"event": "session_started", "timestamp": 1.0},
        {"event": "active_loop", "timestamp": 1.0, "name": "register_form"},
    ],
)
def test_other_events_are_copied_unchanged(event: dict) -> None:
    redacted = redact_event(event)
    assert redacted == event
    assert redacted is not event


@pytest.mark.parametrize(
    ("event", "key", "expected"),
    [
        (
            {"event": "session_started", "metadata": {"jeton": f"{TOKEN}"}},
            "metadata",
            {"jeton": TOKEN_MARK},
        ),
        (
            {"event": "action", "name": "action_x", "action_text": f"IBAN {IBAN_FR}"},
            "action_text",
            f"IBAN {IBAN_MARK}",
        ),
        (
            {"event": "agent", "text": "carte 4111 1111 1111 1111"},
            "text",
            f"carte {CARD_MARK}",
        ),
    ],
)
def test_any_event_metadata_and_texts(event: dict, key: str, expected: object) -> None:
    assert redact_event(event)[key] == expected


def test_entities_event() -> None:
    event = {"event": "entities", "timestamp": 1.0, "entities": [{"entity": "iban", "value": "x"}]}
    assert redact_event(event)["entities"] == [{"entity": "iban", "value": IBAN_MARK}]


def test_a_server_address_in_a_log_line_is_not_a_code() -> None:
    # Seen in the Rasa server's JSON log during a PostgreSQL restart (tests/faults).
    line = 'connection to server at "127.0.0.1", port 39733 failed: Connection refused'
    assert redact_text(line, strict_codes=True) == line
    assert redact_text("mon code : 12.34.56") == "mon code : [code masqué]"
    assert redact_text("code 127001 sur 10.0.0.1", strict_codes=True) == (
        "code [code masqué] sur 10.0.0.1"
    )
