"""Numbers as a French reader expects them: 1 234,50 €."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


def fmt_eur(amount: str | Decimal | float) -> str:
    try:
        value = Decimal(str(amount)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return str(amount)
    sign = "-" if value < 0 else ""
    units, cents = f"{abs(value):.2f}".split(".")
    grouped = f"{int(units):,}".replace(",", "\u202f")
    return f"{sign}{grouped},{cents}\u00a0€"
