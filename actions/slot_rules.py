"""Turning what a tenant typed into slot values, using the portal's pure validation rules."""

from __future__ import annotations

import re

from bot.portal.errors import InvalidInput
from bot.portal.services.rules import normalise_client_number, normalise_email, normalise_surname

_DIGITS_RUN = re.compile(r"\d[\d .\-]*\d|\d")
# Lead-ins tenants put before their surname; removed so "c'est Martin" gives "Martin".
_SURNAME_LEAD_IN = re.compile(
    r"^(?:(?:c'?est|mon nom(?: de famille)?(?: c'?est| est)?|nom(?: du signataire)?\s*:?|"
    r"je m'?appelle|le nom(?: du signataire)? est|signataire\s*:?|my (?:last )?name is|"
    r"madame|monsieur|mme\.?|mlle\.?|mr\.?|m\.)\s+)+",
    re.IGNORECASE,
)


def client_number_from(text: str | None) -> str | None:
    """The 8-digit client number in ``text`` (spaces and dots tolerated), else ``None``."""
    for run in _DIGITS_RUN.findall(text or ""):
        try:
            return normalise_client_number(run)
        except InvalidInput:
            continue
    return None


def surname_from(text: str | None) -> str | None:
    cleaned = _SURNAME_LEAD_IN.sub("", (text or "").strip()).strip(" .!")
    if any(ch.isdigit() or ch == "@" for ch in cleaned) or len(cleaned.split()) > 4:
        return None
    try:
        return normalise_surname(cleaned)
    except InvalidInput:
        return None


def email_from(text: str | None) -> str | None:
    candidates = [word.strip(".,;:!?()<>\"'") for word in (text or "").split() if "@" in word]
    for candidate in candidates or [text or ""]:
        try:
            return normalise_email(candidate)
        except InvalidInput:
            continue
    return None
