"""The prefilled SEPA mandate emailed after a direct-debit request: one A4 page made with fpdf2.

The wording is the template ``mandates/sepa_mandate.html`` (fpdf2 renders simple HTML). A
Unicode TrueType font (DejaVu Sans, from the system or from matplotlib's bundled copy) keeps
accents and typographic apostrophes; without one, the core Helvetica font and Latin-1 text.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF, TextStyle

from bot.portal.services.iban import check_iban
from bot.portal.templating import render

#: From the landlord's help page: where the signed mandate goes, with an original RIB.
RETURN_ADDRESS = "Service DFC, 24 route de l'Hôpital"

_FONT_STYLES = {"": "DejaVuSans", "B": "DejaVuSans-Bold", "I": "DejaVuSans-Oblique"}
_BLUE = "#00558c"
_TAG_STYLES = {
    "h1": TextStyle(color=_BLUE, font_size_pt=18, t_margin=0, b_margin=2),
    "h3": TextStyle(color=_BLUE, font_size_pt=12, t_margin=3, b_margin=1),
}
# Line breaks between block tags would become empty lines in fpdf2's HTML renderer.
_BLOCK_GAP = re.compile(r"(</(?:table|tr|td|p|ol|li|h\d)>|<(?:table|tr|ol)[^>]*>)\s+(?=<)")
SIGNATURE_BOX_MM = 28


def _font_dirs() -> list[Path]:
    dirs = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu")]
    # matplotlib (a Rasa dependency) ships DejaVu; found without importing it (slow).
    spec = importlib.util.find_spec("matplotlib")
    if spec is not None and spec.submodule_search_locations:
        package = Path(next(iter(spec.submodule_search_locations)))
        dirs.append(package / "mpl-data" / "fonts" / "ttf")
    return dirs


@lru_cache(maxsize=1)
def unicode_font_dir() -> Path | None:
    """A folder holding the DejaVu Sans styles we use, or ``None``."""
    for folder in _font_dirs():
        if all((folder / f"{name}.ttf").is_file() for name in _FONT_STYLES.values()):
            return folder
    return None


@dataclass(frozen=True)
class MandateDetails:
    creditor_name: str
    creditor_identifier: str
    reference: str
    debtor_name: str
    debtor_address: str
    iban: str
    bic: str | None
    bank_name: str
    debit_day: int
    signed_on: date
    leases: tuple[str, ...] = ()


def _latin1(text: str) -> str:
    typographic = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
    return text.translate(typographic).encode("latin-1", "replace").decode("latin-1")


def render_mandate_pdf(details: MandateDetails, *, font_dir: Path | None = None) -> bytes:
    """The mandate as PDF bytes; ``font_dir=Path()`` (no fonts there) forces the core font."""
    html = render(
        "mandates/sepa_mandate.html",
        reference=details.reference,
        creditor_name=details.creditor_name,
        creditor_identifier=details.creditor_identifier,
        return_address=RETURN_ADDRESS,
        debtor_name=details.debtor_name,
        debtor_address=details.debtor_address,
        iban=check_iban(details.iban).formatted,
        bic=details.bic,
        bank_name=details.bank_name,
        debit_day=details.debit_day,
        leases=list(details.leases),
        date=details.signed_on.strftime("%d/%m/%Y"),
    )
    pdf = FPDF(format="A4")
    pdf.set_title(render("mandates/sepa_mandate_title.txt", reference=details.reference).strip())
    pdf.set_author(details.creditor_name)
    pdf.set_margins(18, 14, 18)
    pdf.set_auto_page_break(True, margin=14)
    folder = unicode_font_dir() if font_dir is None else font_dir
    if folder is not None and all((folder / f"{n}.ttf").is_file() for n in _FONT_STYLES.values()):
        for style, name in _FONT_STYLES.items():
            pdf.add_font("dejavu", style, str(folder / f"{name}.ttf"))
        family = "dejavu"
    else:
        family, html = "helvetica", _latin1(html)
    pdf.add_page()
    pdf.set_font(family, size=10)
    pdf.write_html(_BLOCK_GAP.sub(r"\1", html), font_family=family, tag_styles=_TAG_STYLES)
    pdf.rect(pdf.l_margin, pdf.get_y() + 1, pdf.epw, SIGNATURE_BOX_MM)
    return bytes(pdf.output())
