"""Public holidays close staff all day: France's, and Alsace-Moselle's Good Friday and
26 December, since the landlord is in Strasbourg."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from bot.policy.french_dates import FRANCE
from bot.policy.opening_hours import (
    DAY_NAMES,
    availability,
    is_public_holiday,
    parse_opening_hours,
)

OFFICE = "lun-ven 08:30-17:30"


def paris(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=FRANCE)


@pytest.mark.parametrize(
    ("hours", "now", "expected", "text"),
    [
        # Easter 2027: Good Friday 26 March (Alsace), Easter Monday 29 March.
        (OFFICE, paris(2027, 3, 25, 19), paris(2027, 3, 30, 8, 30), "mardi à 8 h 30"),
        (OFFICE, paris(2027, 3, 26, 10), paris(2027, 3, 30, 8, 30), "mardi à 8 h 30"),
        (OFFICE, paris(2027, 3, 29, 10), paris(2027, 3, 30, 8, 30), "demain à 8 h 30"),
        # Christmas 2028: Monday 25 and Tuesday 26 December (Alsace) after a weekend.
        (OFFICE, paris(2028, 12, 22, 18), paris(2028, 12, 27, 8, 30), "mercredi à 8 h 30"),
        (OFFICE, paris(2028, 12, 25, 17), paris(2028, 12, 27, 8, 30), "mercredi à 8 h 30"),
        (OFFICE, paris(2028, 12, 26, 10), paris(2028, 12, 27, 8, 30), "demain à 8 h 30"),
        # Ordinary days around them are untouched.
        (OFFICE, paris(2027, 3, 25, 10), None, None),
        (OFFICE, paris(2027, 3, 30, 8, 30), None, None),
        (OFFICE, paris(2027, 4, 2, 18), paris(2027, 4, 5, 8, 30), "lundi à 8 h 30"),
        (OFFICE, paris(2027, 4, 5, 10), None, None),
        (OFFICE, paris(2028, 12, 27, 10), None, None),
        # Saturday mornings only: Christmas 2027 and New Year 2028 are both Saturdays.
        (
            "sam 09:00-12:00",
            paris(2027, 12, 24, 18),
            paris(2028, 1, 8, 9),
            "samedi 8 janvier à 9 h",
        ),
        # Thursdays only: 1 May, 8 May and Ascension close three Thursdays running in 2042.
        ("jeu 14:00-17:00", paris(2042, 4, 24, 18), paris(2042, 5, 22, 14), "jeudi 22 mai à 14 h"),
        # The holiday is the Paris date: 00:30 in Paris on 25 December is 23:30 UTC the day before.
        (
            "lun-dim 00:00-24:00",
            datetime.fromisoformat("2028-12-24T23:30:00+00:00"),
            paris(2028, 12, 27, 0),
            "mercredi à 0 h",
        ),
        ("lun-dim 00:00-24:00", datetime.fromisoformat("2028-12-26T23:30:00+00:00"), None, None),
    ],
)
def test_public_holidays_are_closed_and_the_tenant_is_told_the_next_working_day(
    hours: str, now: datetime, expected: datetime | None, text: str | None
) -> None:
    found = availability(hours, now=now)

    assert found.open_now is (expected is None)
    assert found.next_opening == expected
    assert found.next_opening_text == text


@pytest.mark.parametrize(
    "holiday",
    [
        paris(2027, 3, 26, 10),  # Good Friday, Alsace-Moselle
        paris(2027, 3, 29, 10),  # Easter Monday
        paris(2027, 11, 11, 10),  # Armistice, a Thursday
        paris(2028, 12, 26, 10),  # 26 December, Alsace-Moselle
    ],
)
def test_staff_are_not_there_during_office_hours_on_a_holiday(holiday: datetime) -> None:
    hours = parse_opening_hours(OFFICE)

    assert not hours.is_open(holiday)
    assert hours.is_open(holiday - timedelta(weeks=1))  # the same weekday, an ordinary week


def test_the_calendar_is_france_with_the_alsace_moselle_days() -> None:
    assert is_public_holiday(date(2027, 3, 26))  # Good Friday
    assert is_public_holiday(date(2028, 12, 26))  # Saint Stephen's Day
    assert is_public_holiday(date(2027, 7, 14))
    assert not is_public_holiday(date(2027, 3, 25))
    assert not is_public_holiday(date(2028, 12, 27))


@pytest.mark.parametrize("day", DAY_NAMES)
def test_an_opening_is_always_found_and_never_on_a_holiday(day: str) -> None:
    # Open one hour a week, the hardest case, asked every day at 10:00 for five years.
    hours = parse_opening_hours(f"{day[:3]} 09:00-10:00")
    asked = paris(2026, 1, 1, 10)
    while asked.year < 2031:
        opening = hours.next_opening(asked)

        assert opening is not None and opening > asked
        assert not is_public_holiday(opening.date())
        assert opening - asked < timedelta(weeks=5)
        asked += timedelta(days=1)
