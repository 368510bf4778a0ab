"""Amounts in euros: as tenants type them and as French readers expect them printed.

No I/O; shared by the portal (pages, emails) and the chat (``actions/payments.py`` validates
and says amounts, ``actions/balance.py`` says them): one formatter, so an amount reads the
same on a page, in an email and in the chat.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from bot.errors import InvalidInput

CENT = Decimal("0.01")
#: French typography: a narrow no-break space groups thousands, a no-break space keeps the
#: euro sign on the amount's line.
GROUP_SEPARATOR = "\u202f"
BEFORE_CURRENCY = "\u00a0"

_CURRENCY_WORDS = re.compile(r"(€|eur(?:os?)?)$")
_SPACES = re.compile(r"[\s\u00a0\u202f]")
# Any number of digits: a huge amount is "too high", not "not understood"; the text is capped.
_AMOUNT = re.compile(r"^(\d+)(?:[.,](\d+))?$")
MAX_AMOUNT_TEXT = 40


def _amount_error(*, code: str, variant: str | None = None, **values: object) -> InvalidInput:
    return InvalidInput(code=code, variant=variant, field="amount", **values)


def format_eur(amount: Decimal | str | float | int) -> str:
    """``Decimal("1234.5")`` -> ``"1\u202f234,50\u00a0€"``, ``"-10"`` -> ``"-10,00\u00a0€"``.

    French grouping and decimal comma, no line break inside the amount nor before the euro
    sign. Takes what the portal (``Decimal``) and the chat's slots and JSON (text, numbers) hold;
    text that is no number comes back as it is.
    """
    try:
        value = Decimal(str(amount)).quantize(CENT)
    except InvalidOperation:
        return str(amount)
    if value.is_nan():
        return str(amount)
    sign = "-" if value < 0 else ""
    units, cents = f"{abs(value):.2f}".split(".")
    grouped = f"{int(units):,}".replace(",", GROUP_SEPARATOR)
    return f"{sign}{grouped},{cents}{BEFORE_CURRENCY}€"


def parse_amount(raw: object, *, maximum: Decimal) -> Decimal:
    """An amount as a tenant types it (``412,50``, ``412.5``, ``412,50 €``, ``1 200``).

    Positive, two decimals at most, at most ``maximum``; anything else is ``InvalidInput``
    with a code the dialogue can branch on.
    """
    if isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
        raise _amount_error(code="invalid_amount")
    text = _SPACES.sub("", str(raw)).lower()
    text = _CURRENCY_WORDS.sub("", text).removeprefix("+")
    if len(text) > MAX_AMOUNT_TEXT:
        raise _amount_error(code="invalid_amount")
    if text.startswith("-") and _AMOUNT.match(text[1:]):
        raise _amount_error(code="amount_not_positive")
    match = _AMOUNT.match(text)
    if match is None:
        raise _amount_error(code="invalid_amount")
    units, decimals = match.group(1), match.group(2) or "0"
    if len(decimals) > 2:
        raise _amount_error(code="too_many_decimals")
    try:
        value = Decimal(f"{units}.{decimals}").quantize(CENT)
    except InvalidOperation as error:  # pragma: no cover - the pattern already excludes it
        raise _amount_error(code="invalid_amount", variant="unreadable") from error
    if value <= 0:
        raise _amount_error(code="amount_not_positive")
    if value > maximum:
        raise _amount_error(code="amount_too_high", maximum=format_eur(maximum))
    return value
