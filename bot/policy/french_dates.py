"""Dates as French tenants type them, and how they are said back; pure functions.

Accepted: ``31/12/2027``, ``31-12-2027``, ``31.12.2027``, ``31/12/27``, ``31 décembre 2027``,
``1er janvier 2028``, ``31 decembre 2027`` (no accent), ``31 déc. 2027``, ``le 31 décembre 2027``,
``mardi 31 décembre 2027`` and ISO ``2027-12-31``. Impossible dates (31/02, 00/12, 13th month)
are refused with ``invalid_date``; a validity date before today with ``date_in_past``; one more
than a few years ahead (almost always a typing slip: 2072 for 2027) with ``date_too_far``.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.errors import InvalidInput

FIELD = "valid_until"
FRANCE = ZoneInfo("Europe/Paris")
#: A home-insurance certificate covers a year; a few years ahead leaves room for odd policies.
MAX_YEARS_AHEAD = 3

MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)

# Keys are written without accents: the typed text is stripped of them before the lookup.
_MONTH_NUMBERS = {
    **{
        name: number
        for number, full in enumerate(MONTHS, start=1)
        for name in {full, "".join(c for c in unicodedata.normalize("NFKD", full) if c.isascii())}
    },
    "janv": 1,
    "fev": 2,
    "fevr": 2,
    "avr": 4,
    "juil": 7,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_FILLER = re.compile(
    r"^(?:(?:valable|valide|jusqu'?au|jusqu au|au|le|du|"
    r"lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\s+)+"
)
_NUMERIC = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4}|\d{2})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_WORDS = re.compile(r"^(\d{1,2})\s*(?:er)?\s+([a-z]+)\.?\s+(\d{4})$")


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    spaced = " ".join(stripped.casefold().replace("’", "'").split())
    return _FILLER.sub("", spaced).strip(" .,")


def _invalid(text: str) -> InvalidInput:
    return InvalidInput(code="invalid_date", field=FIELD, text=text.strip()[:40])


def _parts(plain: str) -> tuple[int, int, int] | None:
    """(year, month, day) as typed, not yet checked against the calendar."""
    if match := _ISO.match(plain):
        return int(match[1]), int(match[2]), int(match[3])
    if match := _NUMERIC.match(plain):
        year = int(match[3])
        return (2000 + year if len(match[3]) == 2 else year), int(match[2]), int(match[1])
    if (match := _WORDS.match(plain)) and match[2] in _MONTH_NUMBERS:
        return int(match[3]), _MONTH_NUMBERS[match[2]], int(match[1])
    return None


def parse_french_date(text: str) -> date:
    """The calendar date in ``text``; ``InvalidInput(code="invalid_date")`` otherwise."""
    parts = _parts(_plain(text))
    if parts is None:
        raise _invalid(text)
    try:
        return date(*parts)
    except ValueError as error:  # 31 February, month 13, day 0...
        raise InvalidInput(
            code="invalid_date", variant="not_a_day", field=FIELD, text=text.strip()[:40]
        ) from error


def check_validity_date(valid_until: date, *, today: date) -> date:
    """Refuse a certificate validity date in the past or implausibly far ahead."""
    if valid_until < today:
        raise InvalidInput(code="date_in_past", field=FIELD, date=format_french_date(valid_until))
    if valid_until.year > today.year + MAX_YEARS_AHEAD:
        raise InvalidInput(code="date_too_far", field=FIELD, date=format_french_date(valid_until))
    return valid_until


def parse_validity_date(text: str, *, today: date) -> date:
    """A typed validity date, parsed and checked against ``today``."""
    return check_validity_date(parse_french_date(text), today=today)


def format_french_date(value: date) -> str:
    """``1er janvier 2028``, ``31 décembre 2027``: as said back to the tenant."""
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS[value.month - 1]} {value.year}"


def format_french_datetime(moment: datetime) -> str:
    """``31/12/2027 à 14:05``: a moment in Paris time, as the portal's pages and emails print it."""
    return moment.astimezone(FRANCE).strftime("%d/%m/%Y à %H:%M")


def today_in_france() -> date:
    """The tenant's calendar day (the server's UTC day differs around midnight)."""
    return datetime.now(FRANCE).date()
