"""When staff answer handed-over conversations, and when they next will; pure functions.

Opening hours are written as the landlord's staff write them (``STAFF_OPENING_HOURS``), in
Europe/Paris time: entries separated by ``;``, each made of days and time ranges::

    lun-ven 08:30-17:30
    lun-ven 08:30-12:00,13:30-17:30; sam 09:00-12:00
    lundi,mercredi 9h-12h; jeudi 14h00-24h

Days are ``lun mar mer jeu ven sam dim`` or their full names (accents and case ignored), alone,
as a list (``lun,mer``) or a range (``lun-ven``, ``sam-lun`` wraps round the week). Times are
``08:30``, ``8h30`` or ``8h``; ``24:00`` ends a day. A range never crosses midnight: write
``lun 22:00-24:00; mar 00:00-06:00``. Public holidays are not handled.

``next_opening`` says when a closed service opens again; ``describe_opening`` words it for the
tenant ("lundi à 8 h 30"), the way ``french_dates`` words a date.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from bot.portal.errors import InvalidInput
from bot.portal.services.french_dates import FRANCE, MONTHS

FIELD = "staff_opening_hours"
DAY_NAMES = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_DAY_NUMBERS = {
    **{name: number for number, name in enumerate(DAY_NAMES)},
    **{name[:3]: number for number, name in enumerate(DAY_NAMES)},
}
MINUTES_PER_DAY = 24 * 60
_TIME = re.compile(r"^(\d{1,2})(?:(?::|h)(\d{2})|h)$")
_RANGE = re.compile(r"^([^-]+)-([^-]+)$")
_TIGHT = re.compile(r"\s*([-,])\s*")  # "lun - ven 8h - 12h" is "lun-ven 8h-12h"

#: A closed period may span a long weekend; a week and a day always reaches an opening.
_SEARCH_DAYS = 8

Interval = tuple[int, int]  # minutes since midnight, start inclusive, end exclusive


def _invalid(text: str, why: str) -> InvalidInput:
    return InvalidInput(
        f"Horaires d'ouverture illisibles (« {text.strip()[:80]} ») : {why} "
        "Exemple : « lun-ven 08:30-12:00,13:30-17:30; sam 09:00-12:00 ».",
        code="invalid_opening_hours",
        field=FIELD,
    )


@dataclass(frozen=True)
class OpeningHours:
    """Time intervals per weekday (Monday is 0), in minutes since midnight, sorted."""

    days: tuple[tuple[Interval, ...], ...]

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(FRANCE)
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.days[local.weekday()])

    def next_opening(self, at: datetime) -> datetime | None:
        """The next time the service opens after ``at``; ``None`` when it is open at ``at``."""
        if self.is_open(at):
            return None
        local = at.astimezone(FRANCE)
        for offset in range(_SEARCH_DAYS):
            day = local.date() + timedelta(days=offset)
            for start, _end in self.days[day.weekday()]:
                opening = _local_datetime(day, start)
                if opening > local:
                    return opening
        raise AssertionError("parsed opening hours always have an opening in the week")


def _local_datetime(day: date, minute: int) -> datetime:
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=FRANCE)


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _day(name: str, text: str) -> int:
    number = _DAY_NUMBERS.get(name.strip().rstrip("."))
    if number is None:
        raise _invalid(
            text, f"jour « {name.strip()} » inconnu (lun, mar, mer, jeu, ven, sam, dim)."
        )
    return number


def _days(part: str, text: str) -> list[int]:
    days: list[int] = []
    for item in part.split(","):
        first, dash, last = item.partition("-")
        if not dash:
            days.append(_day(first, text))
            continue
        start, end = _day(first, text), _day(last, text)
        days.extend((start + step) % 7 for step in range((end - start) % 7 + 1))
    return days


def _minute(value: str, text: str) -> int:
    match = _TIME.match(value)
    if match is None:
        raise _invalid(text, f"heure « {value} » illisible (08:30, 8h30 ou 8h).")
    hours, minutes = int(match[1]), int(match[2] or 0)
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise _invalid(text, f"l'heure « {value} » n'existe pas.")
    return hours * 60 + minutes


def _intervals(part: str, text: str) -> list[Interval]:
    intervals = []
    for item in part.split(","):
        match = _RANGE.match(item)
        if match is None:
            raise _invalid(text, f"plage « {item} » illisible (08:30-17:30).")
        start, end = _minute(match[1], text), _minute(match[2], text)
        if start >= end:
            raise _invalid(text, f"la plage « {item} » finit avant de commencer.")
        intervals.append((start, end))
    return intervals


@lru_cache(maxsize=8)
def parse_opening_hours(text: str) -> OpeningHours:
    """The opening hours ``text`` describes; ``InvalidInput(code="invalid_opening_hours")``."""
    week: list[list[Interval]] = [[] for _ in DAY_NAMES]
    entries = [
        _TIGHT.sub(r"\1", " ".join(entry.split()))
        for entry in _plain(text or "").split(";")
        if entry.strip()
    ]
    if not entries:
        raise _invalid(text or "", "aucun horaire n'est indiqué.")
    for entry in entries:
        days_part, _, times_part = entry.partition(" ")
        if not times_part.strip():
            raise _invalid(text, f"« {entry} » n'indique pas d'heures.")
        intervals = _intervals(times_part, text)
        for day in _days(days_part, text):
            week[day].extend(intervals)
    for day, intervals in enumerate(week):
        intervals.sort()
        for (_, end), (start, _) in itertools.pairwise(intervals):
            if start < end:
                raise _invalid(text, f"des plages du {DAY_NAMES[day]} se chevauchent.")
    return OpeningHours(days=tuple(tuple(intervals) for intervals in week))


def format_hour(value: datetime) -> str:
    """``8 h 30``, ``9 h``, ``14 h 05``: a time as said to the tenant."""
    return f"{value.hour} h" + (f" {value.minute:02d}" if value.minute else "")


def describe_opening(opening: datetime, *, now: datetime) -> str:
    """``aujourd'hui à 13 h 30``, ``demain à 8 h 30``, ``lundi à 8 h 30``, or with the date
    (``lundi 12 janvier à 8 h 30``, ``dimanche 1er février à 9 h``) a week or more ahead."""
    local, today = opening.astimezone(FRANCE), now.astimezone(FRANCE).date()
    days_ahead = (local.date() - today).days
    if days_ahead == 0:
        day = "aujourd'hui"
    elif days_ahead == 1:
        day = "demain"
    elif days_ahead < 7:
        day = DAY_NAMES[local.weekday()]
    else:
        number = "1er" if local.day == 1 else str(local.day)
        day = f"{DAY_NAMES[local.weekday()]} {number} {MONTHS[local.month - 1]}"
    return f"{day} à {format_hour(local)}"


@dataclass(frozen=True)
class Availability:
    """Whether staff answer now and, if not, when they will."""

    open_now: bool
    next_opening: datetime | None = None
    next_opening_text: str | None = None


def availability(hours_text: str, *, now: datetime) -> Availability:
    opening = parse_opening_hours(hours_text).next_opening(now)
    if opening is None:
        return Availability(open_now=True)
    return Availability(
        open_now=False,
        next_opening=opening,
        next_opening_text=describe_opening(opening, now=now),
    )
