"""The pure rules behind every form: what a tenant may type, and how it is understood."""

from __future__ import annotations

import pytest

from bot.errors import InvalidInput
from bot.policy.rules import (
    check_password,
    normalise_client_number,
    normalise_email,
    normalise_surname,
    password_problems,
    surname_key,
)


@pytest.mark.parametrize(
    ("typed", "understood"),
    [
        ("12345678", "12345678"),
        ("1234 5678", "12345678"),
        (" 12345678 ", "12345678"),
        ("12.34.56.78", "12345678"),
        ("12-34-56-78", "12345678"),
        ("1234\u00a05678", "12345678"),  # non-breaking space pasted from a PDF rent notice
        ("00000001", "00000001"),  # leading zeros are part of the number
    ],
)
def test_client_number_accepted(typed: str, understood: str) -> None:
    assert normalise_client_number(typed) == understood


@pytest.mark.parametrize(
    "typed",
    [
        "1234567",  # 7 digits
        "123456789",  # 9 digits
        "abcdefgh",
        "1234567a",
        "١٢٣٤٥٦٧٨",  # Arabic-Indic digits
        "１２３４５６７８",  # full-width digits
        "¹²³⁴⁵⁶⁷⁸",  # superscripts count as digits for str.isdigit
        "+1234567",
        "-1234567",
        "",
        "   ",
        None,
    ],
)
def test_client_number_refused_with_a_french_message(typed: str | None) -> None:
    with pytest.raises(InvalidInput) as refused:
        normalise_client_number(typed)  # type: ignore[arg-type]
    assert refused.value.code == "invalid_client_number"
    assert refused.value.field == "client_number"
    assert refused.value.message == "Le numéro client comporte exactement 8 chiffres."


@pytest.mark.parametrize(
    "typed",
    ["Martin", "MARTIN", "martin", " martin ", "Mârtin", "MÄRTIN", "Mar-tin", "Mar tin", "Mar'tin"],
)
def test_surname_spelling_does_not_matter(typed: str) -> None:
    assert surname_key(typed) == surname_key("Martin") == "martin"


@pytest.mark.parametrize(
    ("typed", "registered"),
    [
        ("Nguyễn", "Nguyen"),
        ("dupont martin", "Dupont-Martin"),
        ("LE GOFF", "Le Goff"),
        ("d'Alembert", "DALEMBERT"),
        ("Straße", "Strasse"),
    ],
)
def test_surname_variants_match(typed: str, registered: str) -> None:
    assert surname_key(typed) == surname_key(registered)


@pytest.mark.parametrize(("one", "other"), [("Martin", "Martine"), ("Dupont", "Dupond")])
def test_different_surnames_do_not_match(one: str, other: str) -> None:
    assert surname_key(one) != surname_key(other)


def test_surname_is_trimmed_and_inner_spaces_collapsed() -> None:
    assert normalise_surname("  Le   Goff ") == "Le Goff"


@pytest.mark.parametrize("typed", ["", "   ", "1234", "---", None, "x" * 121])
def test_surname_refused(typed: str | None) -> None:
    with pytest.raises(InvalidInput) as refused:
        normalise_surname(typed)  # type: ignore[arg-type]
    assert refused.value.code == "invalid_surname"
    assert refused.value.field == "surname"
    assert "signataire principal" in refused.value.message


@pytest.mark.parametrize(
    ("typed", "understood"),
    [
        ("martin@example.org", "martin@example.org"),
        ("  Martin@Example.ORG ", "martin@example.org"),
        ("jean.martin+loyer@mail.example.fr", "jean.martin+loyer@mail.example.fr"),
        ("o'brien@example.org", "o'brien@example.org"),
    ],
)
def test_email_accepted(typed: str, understood: str) -> None:
    assert normalise_email(typed) == understood


@pytest.mark.parametrize(
    "typed",
    [
        "",
        None,
        "martin",
        "martin@",
        "@example.org",
        "martin@example",  # no top-level domain
        "martin@@example.org",
        "martin @example.org",
        "martin@example..org",
        "martin@-example.org",
        "jérôme@example.org",
        "martin@example.org\nBcc: victim@example.org",  # header injection
        "a" * 250 + "@example.org",
    ],
)
def test_email_refused(typed: str | None) -> None:
    with pytest.raises(InvalidInput) as refused:
        normalise_email(typed)  # type: ignore[arg-type]
    assert refused.value.code == "invalid_email"
    assert refused.value.message == "Cette adresse e-mail n'est pas valide."


@pytest.mark.parametrize(
    "password", ["Printemps2024!", "CorrectHorse9battery", "Ééééééééé1aA", "Aa1" + "x" * 125]
)
def test_password_accepted(password: str) -> None:
    assert password_problems(password, email="martin@example.org") == []
    check_password(password, email="martin@example.org")


@pytest.mark.parametrize(
    ("password", "broken"),
    [
        ("Court1a", ["au moins 12 caractères"]),
        ("printemps2024", ["une lettre majuscule"]),
        ("PRINTEMPS2024", ["une lettre minuscule"]),
        ("Printempsxxxx", ["un chiffre"]),
        (
            "",
            [
                "au moins 12 caractères",
                "une lettre minuscule",
                "une lettre majuscule",
                "un chiffre",
            ],
        ),
        ("Aa1" + "x" * 126, ["au plus 128 caractères"]),
        ("Martin2024Martin", ["ne pas reprendre votre adresse e-mail"]),
    ],
)
def test_password_refused_with_every_broken_rule(password: str, broken: list[str]) -> None:
    assert password_problems(password, email="martin@example.org") == broken
    with pytest.raises(InvalidInput) as refused:
        check_password(password, email="martin@example.org")
    assert refused.value.code == "weak_password"
    assert refused.value.message == "Le mot de passe doit contenir " + ", ".join(broken) + "."


def test_short_email_local_part_is_not_a_password_rule() -> None:
    # "jo" appears in many good passwords: only local parts of 4+ characters are checked.
    assert password_problems("Bonjour2024ok", email="jo@example.org") == []
