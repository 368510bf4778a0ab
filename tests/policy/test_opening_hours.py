"""Staff opening hours: the setting's parser, whether staff are there, when they next will be,
and how the tenant is told."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.errors import InvalidInput
from bot.policy.french_dates import FRANCE
from bot.policy.opening_hours import (
    availability,
    describe_opening,
    format_hour,
    parse_opening_hours,
)
from bot.settings import Settings

OFFICE = "lun-ven 08:30-17:30"
SPLIT = "lun-ven 08:30-12:00,13:30-17:30; sam 09:00-12:00"


def paris(day: int, hour: int, minute: int = 0, month: int = 1, year: int = 2026) -> datetime:
    """January 2026: Monday 5, Friday 9, Saturday 10, Sunday 11, Monday 12."""
    return datetime(year, month, day, hour, minute, tzinfo=FRANCE)


def minutes(hour: int, minute: int = 0) -> int:
    return hour * 60 + minute


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "monday", "saturday", "sunday"),
    [
        (OFFICE, ((minutes(8, 30), minutes(17, 30)),), (), ()),
        (
            SPLIT,
            ((minutes(8, 30), minutes(12)), (minutes(13, 30), minutes(17, 30))),
            ((minutes(9), minutes(12)),),
            (),
        ),
        ("Lundi,Samedi 9h-12h", ((minutes(9), minutes(12)),), ((minutes(9), minutes(12)),), ()),
        ("lun - ven 8h30 - 17h30", ((minutes(8, 30), minutes(17, 30)),), (), ()),
        ("sam-lun 10:00-24:00", ((600, 1440),), ((600, 1440),), ((600, 1440),)),
        ("DIMANCHE 00:00-06:00", (), (), ((0, 360),)),
        ("lun 14h-18h; lun 8h-12h", ((480, 720), (840, 1080)), (), ()),
        ("mer 9h-12h;", (), (), ()),
    ],
)
def test_opening_hours_are_read_as_written(
    text: str, monday: tuple, saturday: tuple, sunday: tuple
) -> None:
    hours = parse_opening_hours(text)

    assert (hours.days[0], hours.days[5], hours.days[6]) == (monday, saturday, sunday)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "aucun horaire"),
        ("   ;  ", "aucun horaire"),
        ("lun-ven", "n'indique pas d'heures"),
        ("lux-ven 08:30-17:30", "jour « lux » inconnu"),
        ("lun-ven 8.30-17.30", "heure « 8.30 » illisible"),
        ("lun-ven 08:30", "plage « 08:30 » illisible"),
        ("lun-ven 17:30-08:30", "finit avant de commencer"),
        ("lun-ven 08:30-08:30", "finit avant de commencer"),
        ("lun-ven 25:00-26:00", "n'existe pas"),
        ("lun-ven 08:61-17:00", "n'existe pas"),
        ("lun-ven 08:00-24:30", "n'existe pas"),
        ("lun-ven 08:00-12:00,11:00-17:00", "se chevauchent"),
    ],
)
def test_unreadable_opening_hours_are_refused_with_the_reason(text: str, why: str) -> None:
    with pytest.raises(InvalidInput, match=why) as refused:
        parse_opening_hours(text)

    assert refused.value.code == "invalid_opening_hours"
    assert "Exemple : « lun-ven 08:30-12:00,13:30-17:30; sam 09:00-12:00 »" in refused.value.message


def test_settings_refuse_unreadable_opening_hours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAFF_OPENING_HOURS", "tous les jours")
    with pytest.raises(RuntimeError, match="STAFF_OPENING_HOURS"):
        Settings.from_env()

    monkeypatch.setenv("STAFF_OPENING_HOURS", SPLIT)
    assert Settings.from_env().staff_opening_hours == SPLIT


# --------------------------------------------------------------------------- the next opening


@pytest.mark.parametrize(
    ("hours", "now", "expected", "text"),
    [
        # Office hours, weekdays only.
        (OFFICE, paris(5, 10), None, None),
        (OFFICE, paris(5, 8, 30), None, None),  # opening time itself: open
        (OFFICE, paris(5, 17, 29), None, None),
        (OFFICE, paris(5, 17, 30), paris(6, 8, 30), "demain à 8 h 30"),  # closing time: closed
        (OFFICE, paris(5, 7, 0), paris(5, 8, 30), "aujourd'hui à 8 h 30"),
        (OFFICE, paris(5, 0, 0), paris(5, 8, 30), "aujourd'hui à 8 h 30"),
        (OFFICE, paris(8, 23, 59), paris(9, 8, 30), "demain à 8 h 30"),
        (OFFICE, paris(9, 18, 0), paris(12, 8, 30), "lundi à 8 h 30"),  # Friday evening
        (OFFICE, paris(10, 12, 0), paris(12, 8, 30), "lundi à 8 h 30"),  # Saturday
        (OFFICE, paris(11, 20, 0), paris(12, 8, 30), "demain à 8 h 30"),  # Sunday evening
        # Lunch break and Saturday morning.
        (SPLIT, paris(5, 12, 0), paris(5, 13, 30), "aujourd'hui à 13 h 30"),
        (SPLIT, paris(5, 12, 45), paris(5, 13, 30), "aujourd'hui à 13 h 30"),
        (SPLIT, paris(9, 17, 45), paris(10, 9, 0), "demain à 9 h"),  # Friday: Saturday morning
        (SPLIT, paris(10, 10, 0), None, None),
        (SPLIT, paris(10, 12, 0), paris(12, 8, 30), "lundi à 8 h 30"),
        # Once a week: the date is said when the opening is a week or more ahead.
        ("lun 09:00-10:00", paris(5, 10, 0), paris(12, 9, 0), "lundi 12 janvier à 9 h"),
        ("mer 14:05-15:00", paris(5, 10, 0), paris(7, 14, 5), "mercredi à 14 h 05"),
        # Round the clock on some days.
        ("lun-ven 00:00-24:00", paris(9, 23, 59), None, None),
        ("lun-ven 00:00-24:00", paris(10, 9, 0), paris(12, 0, 0), "lundi à 0 h"),
        # Times are Paris times whatever the clock of the caller says.
        (OFFICE, datetime.fromisoformat("2026-01-05T07:45:00+00:00"), None, None),
        (
            OFFICE,
            datetime.fromisoformat("2026-01-05T07:00:00+00:00"),
            paris(5, 8, 30),
            "aujourd'hui à 8 h 30",
        ),
        # Daylight saving time: the last Sunday of March and of October 2026.
        (OFFICE, paris(28, 12, 0, month=3), paris(30, 8, 30, month=3), "lundi à 8 h 30"),
        (OFFICE, paris(24, 12, 0, month=10), paris(26, 8, 30, month=10), "lundi à 8 h 30"),
        # A new year.
        (
            OFFICE,
            paris(31, 18, 0, month=12, year=2027),
            paris(3, 8, 30, year=2028),
            "lundi à 8 h 30",
        ),
    ],
)
def test_next_opening_and_how_the_tenant_is_told(
    hours: str, now: datetime, expected: datetime | None, text: str | None
) -> None:
    found = availability(hours, now=now)

    assert found.open_now is (expected is None)
    assert found.next_opening == expected
    assert found.next_opening_text == text
    if expected is not None:
        assert found.next_opening.utcoffset() == expected.utcoffset()


def test_across_daylight_saving_the_utc_offset_follows_paris() -> None:
    before = availability(OFFICE, now=paris(28, 12, 0, month=3)).next_opening
    assert before is not None and before.utcoffset().total_seconds() == 2 * 3600  # CEST


@pytest.mark.parametrize(
    ("hour", "minute", "said"),
    [(8, 30, "8 h 30"), (9, 0, "9 h"), (14, 5, "14 h 05"), (0, 0, "0 h"), (23, 59, "23 h 59")],
)
def test_hours_are_said_the_french_way(hour: int, minute: int, said: str) -> None:
    assert format_hour(paris(5, hour, minute)) == said


def test_an_opening_more_than_a_week_ahead_carries_its_date() -> None:
    assert (
        describe_opening(paris(1, 8, 30, month=2), now=paris(12, 9))
        == "dimanche 1er février à 8 h 30"
    )
