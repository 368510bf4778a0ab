"""The SEPA mandate PDF: one page that names everything the tenant signs, readable back."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from bot.portal.services.mandate_pdf import MandateDetails, render_mandate_pdf, unicode_font_dir
from tests.portal.support import words

DETAILS = MandateDetails(
    creditor_name="Ophéa",
    creditor_identifier="FR76ZZZ000000",
    reference="OPH-11223344-20250314-K7Q2ZD",
    debtor_name="Minh Nguyen",
    debtor_address="8 allée des Peupliers, 67200 Strasbourg",
    iban="FR7630006000011234567890189",
    bic="AGRIFRPPXXX",
    bank_name="CREDIT AGRICOLE SA",
    debit_day=7,
    signed_on=date(2025, 3, 14),
    leases=("Appartement (BAIL-11223344-1)", "Parking (BAIL-11223344-2)"),
)


def _text(pdf: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.pages), words(" ".join(page.extract_text() for page in reader.pages))


@pytest.mark.parametrize(
    "font_dir", [None, Path("/nonexistent")], ids=["unicode-font", "core-font-fallback"]
)
def test_the_mandate_names_creditor_debtor_account_and_how_to_return_it(
    font_dir: Path | None,
) -> None:
    pdf = render_mandate_pdf(DETAILS, font_dir=font_dir)

    assert pdf.startswith(b"%PDF-")
    pages, text = _text(pdf)
    assert pages == 1
    for expected in (
        "Mandat de prélèvement SEPA",
        "OPH-11223344-20250314-K7Q2ZD",
        "Ophéa",
        "FR76ZZZ000000",
        "Minh Nguyen",
        "8 allée des Peupliers, 67200 Strasbourg",
        "FR76 3000 6000 0112 3456 7890 189",
        "AGRIFRPPXXX",
        "CREDIT AGRICOLE SA",
        "le 7 de chaque mois",
        "récurrent",
        "14/03/2025",
        "BAIL-11223344-2",
        "Service DFC, 24 route de l'Hôpital",
        "RIB original",
        "dans votre agence",
        "quelques jours",
        "8 semaines",
    ):
        assert expected in text, expected


def test_a_unicode_font_is_found_on_this_machine() -> None:
    # DejaVu comes with the system or with matplotlib (a Rasa dependency).
    assert unicode_font_dir() is not None


def test_a_missing_bic_is_left_to_complete_and_markup_in_names_stays_text() -> None:
    details = MandateDetails(
        **{**DETAILS.__dict__, "bic": None, "debtor_name": "<b>Léa</b> & Co", "leases": ()}
    )

    _, text = _text(render_mandate_pdf(details))

    assert "BIC à compléter" in text
    assert "<b>Léa</b> & Co" in text
    assert "Bail(s)" not in text
