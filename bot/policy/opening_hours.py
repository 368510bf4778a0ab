"""When staff answer handed-over conversations, and when they next will; pure functions.

Opening hours are written as the landlord's staff write them (``STAFF_OPENING_HOURS``), in
Europe/Paris time: entries separated by ``;``, each made of days and time ranges::

    lun-ven 08:30-17:30
    lun-ven 08:30-12:00,13:30-17:30; sam 09:00-12:00
    lundi,mercredi 9h-12h; jeudi 14h00-24h

Days are ``lun mar mer jeu ven sam dim`` or their full names (accents and case ignored), alone,
as a list (``lun,mer``) or a range (``lun-ven``, ``sam-lun`` wraps round the week). Times are
``08:30``, ``8h30`` or ``8h``; ``24:00`` ends a day. A range never crosses midnight: write
``lun 22:00-24:00; mar 00:00-06:00``. Public holidays, France's and Alsace-Moselle's (Good
Friday, 26 December), are closed all day (by their Paris date), whatever their weekday's hours.

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

import holidays

from bot.errors import InvalidInput, message_text
from bot.policy.french_dates import FRANCE, MONTHS

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

#: Whose public holidays staff take off: France's, with Alsace-Moselle's Good Friday and
#: 26 December, since the landlord (Ophéa) is in Strasbourg, Bas-Rhin. ``holidays`` calls
#: Bas-Rhin and Haut-Rhin "6AE"; Moselle, "57", has the same days.
HOLIDAY_COUNTRY = "FR"
HOLIDAY_SUBDIVISION = "6AE"

#: Holidays can close the same weekday several weeks running (Thursdays 1, 8 and 15 May
#: 2042) and Christmas, 26 December and a weekend four days running; a year holds at most
#: a dozen or so holidays, so 53 weeks always reach an open day of a week with any hours.
_SEARCH_DAYS = 7 * 53

Interval = tuple[int, int]  # minutes since midnight, start inclusive, end exclusive


def _invalid(text: str, why: str) -> InvalidInput:
    """``why``: what is wrong, worded by an ``opening_hours.*`` entry of ``bot/errors_fr.yml``."""
    return InvalidInput(code="invalid_opening_hours", field=FIELD, text=text.strip()[:80], why=why)


@dataclass(frozen=True)
class OpeningHours:
    """Time intervals per weekday (Monday is 0), in minutes since midnight, sorted."""

    days: tuple[tuple[Interval, ...], ...]

    def _hours_on(self, day: date) -> tuple[Interval, ...]:
        """The intervals of ``day`` (a Paris date): none on a public holiday."""
        return () if is_public_holiday(day) else self.days[day.weekday()]

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(FRANCE)
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self._hours_on(local.date()))

    def next_opening(self, at: datetime) -> datetime | None:
        """The next time the service opens after ``at``; ``None`` when it is open at ``at``."""
        if self.is_open(at):
            return None
        local = at.astimezone(FRANCE)
        for offset in range(_SEARCH_DAYS):
            day = local.date() + timedelta(days=offset)
            for start, _end in self._hours_on(day):
                opening = _local_datetime(day, start)
                if opening > local:
                    return opening
        raise AssertionError("parsed opening hours always have an opening within a year")


@lru_cache(maxsize=4)
def _public_holidays(year: int) -> frozenset[date]:
    """One year's holiday dates, computed once: the library builds them from rules, offline."""
    calendar = holidays.country_holidays(HOLIDAY_COUNTRY, subdiv=HOLIDAY_SUBDIVISION, years=year)
    return frozenset(calendar)


def is_public_holiday(day: date) -> bool:
    """Whether ``day``, a Paris date, is a public holiday where the landlord is."""
    return day in _public_holidays(day.year)


def _local_datetime(day: date, minute: int) -> datetime:
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=FRANCE)


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _day(name: str, text: str) -> int:
    number = _DAY_NUMBERS.get(name.strip().rstrip("."))
    if number is None:
        raise _invalid(text, message_text("opening_hours.unknown_day", name=name.strip()))
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
        raise _invalid(text, message_text("opening_hours.unreadable_time", value=value))
    hours, minutes = int(match[1]), int(match[2] or 0)
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise _invalid(text, message_text("opening_hours.no_such_time", value=value))
    return hours * 60 + minutes


def _intervals(part: str, text: str) -> list[Interval]:
    intervals = []
    for item in part.split(","):
        match = _RANGE.match(item)
        if match is None:
            raise _invalid(text, message_text("opening_hours.unreadable_range", item=item))
        start, end = _minute(match[1], text), _minute(match[2], text)
        if start >= end:
            raise _invalid(text, message_text("opening_hours.backwards_range", item=item))
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
        raise _invalid(text or "", message_text("opening_hours.empty"))
    for entry in entries:
        days_part, _, times_part = entry.partition(" ")
        if not times_part.strip():
            raise _invalid(text, message_text("opening_hours.no_hours", entry=entry))
        intervals = _intervals(times_part, text)
        for day in _days(days_part, text):
            week[day].extend(intervals)
    for day, intervals in enumerate(week):
        intervals.sort()
        for (_, end), (start, _) in itertools.pairwise(intervals):
            if start < end:
                why = message_text("opening_hours.overlap", day=DAY_NAMES[day])
                raise _invalid(text, why)
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
