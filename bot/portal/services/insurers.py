"""Home insurers: the list offered as buttons, and a matcher that also accepts free text.

The help page lets the tenant pick the insurer from a list or type it freely. A typed name that
is one of the known insurers (whatever its case, accents or a generic word such as "assurances")
is stored under its usual spelling; anything else is kept as typed, tidied.
"""

from __future__ import annotations

import re
import unicodedata

from bot.errors import InvalidInput

FIELD = "insurer"
MAX_LENGTH = 120

#: Usual spelling -> other ways tenants name the same insurer.
_KNOWN: dict[str, tuple[str, ...]] = {
    "MAIF": (),
    "MACIF": (),
    "MAAF": (),
    "Matmut": (),
    "GMF": (),
    "MMA": (),
    "AXA": (),
    "Allianz": (),
    "Generali": (),
    "Groupama": (),
    "Abeille Assurances": ("Aviva",),
    "Crédit Agricole Assurances": ("Crédit Agricole", "Pacifica", "CA Assurances"),
    "Société Générale Assurances": ("Société Générale", "Sogessur", "SG Assurances"),
    "Crédit Mutuel Assurances": ("Crédit Mutuel", "ACM", "CIC", "CIC Assurances"),
    "BPCE Assurances": ("Caisse d'Epargne", "Banque Populaire", "BPCE IARD"),
    "La Banque Postale Assurances": ("Banque Postale", "La Banque Postale"),
    "LCL Assurances": ("LCL",),
    "BNP Paribas Cardif": ("BNP Paribas", "BNP", "Cardif"),
    "Direct Assurance": (),
}

#: For the buttons, in the order tenants most often need them.
INSURERS: tuple[str, ...] = tuple(_KNOWN)

# Words that do not tell insurers apart: "AXA Assurances", "la Matmut", "Groupe Allianz".
_GENERIC = {"assurance", "assurances", "assureur", "mutuelle", "groupe", "la", "le", "les"}


def insurer_key(text: str) -> str:
    """Lower case, no accents, no punctuation, no generic words."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    letters = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    words = re.sub(r"[^a-z0-9]+", " ", letters).split()
    return " ".join(word for word in words if word not in _GENERIC)


_BY_KEY = {
    insurer_key(name): canonical
    for canonical, aliases in _KNOWN.items()
    for name in (canonical, *aliases)
}


def known_insurer(text: str) -> str | None:
    """The usual spelling when ``text`` names a listed insurer, else ``None``."""
    return _BY_KEY.get(insurer_key(text))


def normalise_insurer(text: str) -> str:
    """The insurer to store: a listed one under its usual spelling, or the tidied free text."""
    tidy = " ".join((text or "").split())
    if len(re.sub(r"\W", "", tidy)) < 2:
        raise InvalidInput(code="invalid_insurer", field=FIELD)
    if len(tidy) > MAX_LENGTH:
        raise InvalidInput(code="invalid_insurer", variant="too_long", field=FIELD)
    return known_insurer(tidy) or tidy
