"""Pure rules of online payment: amounts as tenants type them, the lease, platform statuses.

No I/O, so they are table-tested and shared by the portal and the chat's form validation.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from bot.portal.errors import InvalidInput, NotFound
from bot.portal.models import Lease, PaymentStatus
from bot.portal.payments import systempay

CENT = Decimal("0.01")

_CURRENCY_WORDS = re.compile(r"(€|eur(?:os?)?)$")
_SPACES = re.compile(r"[\s\u00a0\u202f]")
# Any number of digits: a huge amount is "too high", not "not understood"; the text is capped.
_AMOUNT = re.compile(r"^(\d+)(?:[.,](\d+))?$")
MAX_AMOUNT_TEXT = 40


def _amount_error(message: str, code: str) -> InvalidInput:
    return InvalidInput(message, code=code, field="amount")


def format_eur(amount: Decimal) -> str:
    """``Decimal("1234.5")`` -> ``"1 234,50 €"`` (French grouping and decimal comma)."""
    grouped = f"{amount.quantize(CENT):,.2f}"
    return grouped.replace(",", " ").replace(".", ",") + " €"


def parse_amount(raw: object, *, maximum: Decimal) -> Decimal:
    """An amount as a tenant types it (``412,50``, ``412.5``, ``412,50 €``, ``1 200``).

    Positive, two decimals at most, at most ``maximum``; anything else is ``InvalidInput``
    with a code the dialogue can branch on.
    """
    if isinstance(raw, bool) or not isinstance(raw, str | int | float | Decimal):
        raise _amount_error("Indiquez un montant en euros, par exemple 412,50.", "invalid_amount")
    text = _SPACES.sub("", str(raw)).lower()
    text = _CURRENCY_WORDS.sub("", text).removeprefix("+")
    if len(text) > MAX_AMOUNT_TEXT:
        raise _amount_error("Indiquez un montant en euros, par exemple 412,50.", "invalid_amount")
    if text.startswith("-") and _AMOUNT.match(text[1:]):
        raise _amount_error("Le montant doit être supérieur à zéro.", "amount_not_positive")
    match = _AMOUNT.match(text)
    if match is None:
        raise _amount_error("Indiquez un montant en euros, par exemple 412,50.", "invalid_amount")
    units, decimals = match.group(1), match.group(2) or "0"
    if len(decimals) > 2:
        raise _amount_error(
            "Le montant ne peut pas avoir plus de deux décimales.", "too_many_decimals"
        )
    try:
        value = Decimal(f"{units}.{decimals}").quantize(CENT)
    except InvalidOperation as error:  # pragma: no cover - the pattern already excludes it
        raise _amount_error("Montant non reconnu.", "invalid_amount") from error
    if value <= 0:
        raise _amount_error("Le montant doit être supérieur à zéro.", "amount_not_positive")
    if value > maximum:
        raise _amount_error(
            f"Un paiement en ligne ne peut pas dépasser {format_eur(maximum)}.",
            "amount_too_high",
        )
    return value


def choose_lease(leases: list[Lease], reference: str) -> Lease:
    """The household's lease named by ``reference``; the only one when none is named."""
    if not reference:
        if len(leases) == 1:
            return leases[0]
        raise InvalidInput(
            "Précisez le bail concerné par le paiement.", code="lease_required", field="lease"
        )
    wanted = reference.strip().upper()
    for lease in leases:
        if lease.reference.upper() == wanted:
            return lease
    # Same answer whether the lease exists for another household or not at all.
    raise NotFound("Bail introuvable pour ce compte.", code="lease_not_found")


def default_amount(lease: Lease) -> Decimal | None:
    """What the tenant is offered to pay: the balance due, when there is one."""
    return lease.balance_due if lease.balance_due > 0 else None


def status_for(platform_status: str) -> PaymentStatus:
    """Our status for a ``vads_trans_status``; anything not final leaves the payment pending."""
    if platform_status in systempay.ACCEPTED_STATUSES:
        return PaymentStatus.ACCEPTED
    if platform_status in systempay.REFUSED_STATUSES:
        return PaymentStatus.REFUSED
    if platform_status in systempay.CANCELLED_STATUSES:
        return PaymentStatus.CANCELLED
    if platform_status in systempay.EXPIRED_STATUSES:
        return PaymentStatus.EXPIRED
    return PaymentStatus.PENDING
