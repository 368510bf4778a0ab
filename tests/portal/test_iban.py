"""IBAN rules (pure): what a tenant may type, what is refused and with which code."""

from __future__ import annotations

import pytest

from bot.errors import InvalidInput
from bot.portal.services.iban import check_iban, mask_iban, normalise_iban


@pytest.mark.parametrize(
    ("typed", "compact", "formatted", "bic", "bank_name"),
    [
        pytest.param(
            "FR76 3000 6000 0112 3456 7890 189",
            "FR7630006000011234567890189",
            "FR76 3000 6000 0112 3456 7890 189",
            "AGRIFRPPXXX",
            "CREDIT AGRICOLE SA",
            id="fr-printed",
        ),
        pytest.param(
            "fr7630006000011234567890189",
            "FR7630006000011234567890189",
            "FR76 3000 6000 0112 3456 7890 189",
            "AGRIFRPPXXX",
            "CREDIT AGRICOLE SA",
            id="fr-lower-case-compact",
        ),
        pytest.param(
            "  fr76-3000-6000-0112-3456-7890-189 ",
            "FR7630006000011234567890189",
            "FR76 3000 6000 0112 3456 7890 189",
            "AGRIFRPPXXX",
            "CREDIT AGRICOLE SA",
            id="fr-hyphens",
        ),
        pytest.param(
            "FR14 2004 1010 0505 0001 3M02 606",
            "FR1420041010050500013M02606",
            "FR14 2004 1010 0505 0001 3M02 606",
            "PSSTFRPP",
            "LA BANQUE POSTALE",
            id="fr-letters-in-account",
        ),
        pytest.param(
            "DE89 3704 0044 0532 0130 00",
            "DE89370400440532013000",
            "DE89 3704 0044 0532 0130 00",
            "COBADEFFXXX",
            "Commerzbank",
            id="de",
        ),
        pytest.param(
            "ch93 0076 2011 6238 5295 7",
            "CH9300762011623852957",
            "CH93 0076 2011 6238 5295 7",
            None,
            None,
            id="ch-sepa-bank-unknown",
        ),
    ],
)
def test_valid_ibans_are_normalised_and_name_their_bank(
    typed: str, compact: str, formatted: str, bic: str | None, bank_name: str | None
) -> None:
    checked = check_iban(typed)

    assert (checked.iban, checked.formatted) == (compact, formatted)
    assert (checked.bic, checked.bank_name) == (bic, bank_name)


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        pytest.param("FR76 3000 6000 0112 3456 7890 188", "invalid_iban_checksum", id="last-digit"),
        pytest.param("FR76 3000 6000 0112 3456 7890 198", "invalid_iban_checksum", id="swapped"),
        pytest.param("DE88 3704 0044 0532 0130 00", "invalid_iban_checksum", id="check-digits"),
        pytest.param("FR76 3000 6000 0112 3456 7890 18", "invalid_iban_length", id="short"),
        pytest.param("FR76 3000 6000 0112 3456 7890 1890", "invalid_iban_length", id="long"),
        pytest.param("FR76" + "0" * 70, "invalid_iban_length", id="pasted-garbage"),
        pytest.param("XX76 3000 6000 0112 3456 7890 189", "invalid_iban_country", id="no-country"),
        pytest.param("US64 SVBK US6S 3300 9588 79", "invalid_iban_country", id="us-no-iban"),
        pytest.param("FR76 3000 6000 0112 3456 7890 1X9", "invalid_iban_format", id="letter"),
        pytest.param("FR76 3000 6000 0112 3456 7890 1@9", "invalid_iban_format", id="symbol"),
        pytest.param("BR15 0000 0000 0000 1093 2840 814P 2", "iban_not_sepa", id="brazil"),
        pytest.param("TR33 0006 1005 1978 6457 8413 26", "iban_not_sepa", id="turkey"),
        pytest.param("", "missing_iban", id="empty"),
        pytest.param("   ", "missing_iban", id="blank"),
    ],
)
def test_bad_ibans_are_refused_with_a_code(typed: str, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_iban(typed)

    assert (refused.value.code, refused.value.field) == (code, "iban")
    assert refused.value.message  # French text for whoever shows it
    assert typed.strip() == "" or normalise_iban(typed) not in refused.value.message


def test_masked_iban_keeps_only_the_ends() -> None:
    assert mask_iban("fr76 3000 6000 0112 3456 7890 189") == "FR76 **** **** **** **** ***0 189"
