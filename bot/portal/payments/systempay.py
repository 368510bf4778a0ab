"""Systempay's hosted payment form: the signed ``vads_*`` fields, both ways.

The merchant site posts a form of ``vads_*`` fields plus ``signature`` to the platform; the
platform posts the result (the instant payment notification, IPN) back to ``vads_url_check`` in
the same shape. Both are signed the same way (Systempay documentation, "Computing the
signature", https://paiement.systempay.fr/doc/en-EN/form-payment/quick-start-guide/
computing-the-signature.html):

1. take the fields whose name starts with ``vads_``, sorted by name;
2. join their values (UTF-8) with ``+``, then append ``+`` and the shop key;
3. HMAC-SHA-256 of that string keyed with the shop key, encoded in Base64.

Nothing here touches card data: the tenant types it on the platform's page, never ours.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

PREFIX = "vads_"
VERSION = "V2"
CURRENCY_EUR = "978"  # ISO 4217 numeric code of the euro
TRANS_DATE_FORMAT = "%Y%m%d%H%M%S"

#: ``vads_trans_status`` values that mean the money was taken (or will be, automatically).
ACCEPTED_STATUSES = frozenset({"AUTHORISED", "CAPTURED"})
#: Final failures: nothing was or will be debited.
REFUSED_STATUSES = frozenset({"REFUSED"})
CANCELLED_STATUSES = frozenset({"ABANDONED", "CANCELLED", "NOT_CREATED"})
EXPIRED_STATUSES = frozenset({"EXPIRED"})


def vads_fields(fields: Mapping[str, str]) -> dict[str, str]:
    """Only the fields that take part in the signature."""
    return {name: value for name, value in fields.items() if name.startswith(PREFIX)}


def signing_string(fields: Mapping[str, str], key: str) -> str:
    """``value1+value2+...+key`` over the ``vads_`` fields sorted by name."""
    values = [value for _name, value in sorted(vads_fields(fields).items())]
    return "+".join([*values, key])


def sign(fields: Mapping[str, str], key: str) -> str:
    """The ``signature`` field: Base64 of HMAC-SHA-256(key, signing string)."""
    digest = hmac.new(
        key.encode("utf-8"), signing_string(fields, key).encode("utf-8"), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def verify(fields: Mapping[str, str], key: str) -> bool:
    """Whether ``fields["signature"]`` signs the ``vads_`` fields with ``key`` (constant time)."""
    given = fields.get("signature", "")
    if not given or not vads_fields(fields):
        return False
    return hmac.compare_digest(given.encode("utf-8"), sign(fields, key).encode("utf-8"))


def signed(fields: Mapping[str, str], key: str) -> dict[str, str]:
    """The fields with their ``signature`` added."""
    result = dict(fields)
    result["signature"] = sign(fields, key)
    return result


def amount_in_cents(amount: Decimal) -> str:
    """``vads_amount``: the amount in the currency's smallest unit (cents for the euro)."""
    cents = amount * 100
    if cents != cents.to_integral_value() or cents <= 0:
        raise ValueError(f"{amount} is not a positive amount in whole cents")
    return str(int(cents))


def euros(cents: str) -> Decimal:
    """The inverse of :func:`amount_in_cents` (``"41250"`` -> ``Decimal("412.50")``)."""
    if not cents.isdigit():
        raise ValueError(f"{cents!r} is not an amount in cents")
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def trans_date(moment: datetime) -> str:
    """``vads_trans_date``: UTC, ``yyyyMMddHHmmss``."""
    return moment.astimezone(timezone.utc).strftime(TRANS_DATE_FORMAT)


def trans_id(sequence: int) -> str:
    """``vads_trans_id``: 6 digits, unique per shop and UTC day (here: over 900,000 payments).

    The range 900000-999999 is reserved to the platform (Lyra/Systempay reference of
    ``vads_trans_id``), hence the modulo.
    """
    return f"{sequence % 900_000:06d}"


@dataclass(frozen=True)
class Shop:
    """What identifies the merchant to the platform."""

    site_id: str
    key: str
    mode: str  # "TEST" or "PRODUCTION" (``vads_ctx_mode``)


def payment_form(
    *,
    shop: Shop,
    amount: Decimal,
    transaction_id: str,
    transaction_date: str,
    order_id: str,
    notification_url: str,
    return_url: str,
    language: str = "fr",
) -> dict[str, str]:
    """The signed fields of a single immediate payment, ready to post to the platform."""
    fields = {
        "vads_action_mode": "INTERACTIVE",
        "vads_amount": amount_in_cents(amount),
        "vads_ctx_mode": shop.mode,
        "vads_currency": CURRENCY_EUR,
        "vads_language": language,
        "vads_order_id": order_id,
        "vads_page_action": "PAYMENT",
        "vads_payment_config": "SINGLE",
        "vads_return_mode": "GET",
        "vads_site_id": shop.site_id,
        "vads_trans_date": transaction_date,
        "vads_trans_id": transaction_id,
        "vads_url_cancel": return_url,
        "vads_url_check": notification_url,
        "vads_url_return": return_url,
        "vads_version": VERSION,
    }
    return signed(fields, shop.key)
