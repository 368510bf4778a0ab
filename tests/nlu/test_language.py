"""Which messages change the language of the replies, and which never do."""

from __future__ import annotations

import pytest

from bot.nlu.language import ShortReplies, detect, french_english_detector, words_of


def language_of(text: str) -> str | None:
    return detect(text, detector=french_english_detector(), short_replies=ShortReplies.load())


@pytest.mark.parametrize(
    "text",
    [
        "I forgot my password",
        "how can I pay my rent by card?",
        "where do i send the signed mandate",
        "my insurance has expired, I need to update it",
        "thanks",
        "yes please",
        "ok thanks",
        "hello, i need help with my account",
        "is online payment available on weekends",
    ],
)
def test_english_messages_are_english(text: str) -> None:
    assert language_of(text) == "en"


@pytest.mark.parametrize(
    "text",
    [
        "merci",
        "Merci !",
        "ok merci",
        "oui",
        "bonjour",
        "j'ai oublié mon mot de passe",
        "quels jours pour le prélèvement ?",
        "je veux m inscrire",
        "c'est envoyé",
        "comment je paye mon loyer par carte",
    ],
)
def test_french_messages_are_french(text: str) -> None:
    assert language_of(text) == "fr"


@pytest.mark.parametrize(
    "text",
    [
        "ok",
        "OK",
        "okay",
        "stop",
        "hello",
        "bye",
        "12345678",
        "claire.dupont@example.org",
        "FR76 3000 6000 0112 3456 7890 189",
        "123456",
        "412,50",
        "31/12/2027",
        "https://monespace.ophea.fr/",
        # surnames, which a form asks for: one word says nothing of the tenant's language
        "Martin",
        "Dupont",
        "Smith",
        "Weber",
        "Claire Dupont",
        "Jean Smith",
        "POL-123456",
        "/setup_direct_debit",
        '/inform{"client_number": "87654321"}',
        "",
        "?!",
    ],
)
def test_values_and_neutral_words_leave_the_language_unchanged(text: str) -> None:
    assert language_of(text) is None


def test_a_number_or_an_email_in_a_sentence_does_not_count_as_words() -> None:
    assert words_of("my client number is 87654321, email a.b@example.org") == [
        "my",
        "client",
        "number",
        "is",
        "email",
    ]


def test_mixed_short_replies_name_no_language() -> None:
    assert language_of("oui yes") is None
