"""Validity dates as French tenants type them: accepted spellings, impossible and past dates."""

from __future__ import annotations

from datetime import date

import pytest

from bot.errors import InvalidInput
from bot.policy.french_dates import (
    format_french_date,
    parse_french_date,
    parse_validity_date,
)

TODAY = date(2026, 11, 26)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("31/12/2027", date(2027, 12, 31)),
        ("31-12-2027", date(2027, 12, 31)),
        ("31.12.2027", date(2027, 12, 31)),
        ("1/3/2027", date(2027, 3, 1)),
        ("31/12/27", date(2027, 12, 31)),
        (" 31 / 12 / 2027 ", date(2027, 12, 31)),
        ("31 décembre 2027", date(2027, 12, 31)),
        ("31 decembre 2027", date(2027, 12, 31)),
        ("31 DÉCEMBRE 2027", date(2027, 12, 31)),
        ("1er janvier 2028", date(2028, 1, 1)),
        ("1 er janvier 2028", date(2028, 1, 1)),
        ("15 août 2027", date(2027, 8, 15)),
        ("15 aout 2027", date(2027, 8, 15)),
        ("3 févr. 2028", date(2028, 2, 3)),
        ("3 fev 2028", date(2028, 2, 3)),
        ("29 février 2028", date(2028, 2, 29)),
        ("le 31 décembre 2027", date(2027, 12, 31)),
        ("jusqu'au 30/06/2027", date(2027, 6, 30)),
        ("jusqu’au 30 juin 2027", date(2027, 6, 30)),
        ("vendredi 31 décembre 2027", date(2027, 12, 31)),
        ("2027-12-31", date(2027, 12, 31)),
        ("2028-01-01", date(2028, 1, 1)),
    ],
)
def test_accepted_spellings(typed: str, expected: date) -> None:
    assert parse_french_date(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "31/02/2027",  # no 31 February
        "29 février 2027",  # 2027 is not a leap year
        "00/12/2027",
        "32/12/2027",
        "31/13/2027",
        "2027-02-30",
        "31 décembre",  # which year?
        "12/2027",
        "31 foo 2027",
        "demain",
        "31122027",
        "",
    ],
)
def test_impossible_or_unreadable_dates_are_refused(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_french_date(typed)
    assert (refused.value.code, refused.value.field) == ("invalid_date", "valid_until")
    assert "31/12/2027" in refused.value.message or "n'existe pas" in refused.value.message


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("25/11/2026", "date_in_past"),  # yesterday
        ("1er janvier 2020", "date_in_past"),
        ("2026-01-01", "date_in_past"),
        ("31/12/2072", "date_too_far"),  # 2072 for 2027: a typing slip
    ],
)
def test_past_and_implausible_validity_dates_are_refused(typed: str, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_validity_date(typed, today=TODAY)
    assert (refused.value.code, refused.value.field) == (code, "valid_until")
    assert refused.value.message


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("26/11/2026", date(2026, 11, 26)),  # still valid today
        ("27 novembre 2026", date(2026, 11, 27)),
        ("31/12/2029", date(2029, 12, 31)),
    ],
)
def test_validity_dates_from_today_on_are_accepted(typed: str, expected: date) -> None:
    assert parse_validity_date(typed, today=TODAY) == expected


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (date(2028, 1, 1), "1er janvier 2028"),
        (date(2027, 12, 31), "31 décembre 2027"),
        (date(2027, 8, 5), "5 août 2027"),
    ],
)
def test_dates_are_said_back_in_french(value: date, said: str) -> None:
    assert format_french_date(value) == said
    assert parse_french_date(said) == value
