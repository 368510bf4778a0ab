"""IBAN checks for direct debits: pure functions over schwifty (country, length, checksum).

The tenant may type spaces, hyphens or lower case; the result is the compact upper-case IBAN,
its printed form, and the bank's name and BIC where schwifty's bank registry knows them.
Every refusal is an ``InvalidInput`` on the field ``iban`` with one of the codes below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from schwifty import IBAN
from schwifty.exceptions import (
    InvalidBBANChecksum,
    InvalidChecksumDigits,
    InvalidCountryCode,
    InvalidLength,
    SchwiftyException,
)

from bot.errors import InvalidInput

_IGNORED = re.compile(r"[\s\-.]")
_MAX_TYPED = 64


@dataclass(frozen=True)
class IbanCheck:
    """A valid IBAN of the SEPA zone."""

    iban: str  # compact, upper case: what is stored
    formatted: str  # groups of four: what is printed
    country_code: str
    bic: str | None
    bank_name: str | None


def _refuse(*, code: str) -> InvalidInput:
    return InvalidInput(code=code, field="iban")


def normalise_iban(raw: str) -> str:
    """Drop spaces, hyphens and dots (as copied from a RIB) and upper-case the rest."""
    return _IGNORED.sub("", raw or "").upper()


def check_iban(raw: str) -> IbanCheck:
    """Validate an IBAN as a tenant types it; ``InvalidInput`` with a code otherwise."""
    compact = normalise_iban(raw)
    if not compact:
        raise _refuse(code="missing_iban")
    if len(compact) > _MAX_TYPED:
        raise _refuse(code="invalid_iban_length")
    try:
        iban = IBAN(compact)
    except InvalidCountryCode:
        raise _refuse(code="invalid_iban_country") from None
    except InvalidLength:
        raise _refuse(code="invalid_iban_length") from None
    except (InvalidChecksumDigits, InvalidBBANChecksum):
        raise _refuse(code="invalid_iban_checksum") from None
    except (SchwiftyException, ValueError):
        raise _refuse(code="invalid_iban_format") from None
    if not iban.in_sepa_zone:
        raise _refuse(code="iban_not_sepa")
    bic = iban.bic
    return IbanCheck(
        iban=str(iban.compact),
        formatted=iban.formatted,
        country_code=iban.country_code,
        bic=str(bic.compact) if bic is not None else None,
        bank_name=iban.bank_name or None,
    )


def mask_iban(iban: str) -> str:
    """``FR76 **** **** **** **** ***0 189``: enough for the tenant to recognise the account."""
    compact = normalise_iban(iban)
    hidden = compact[:4] + "*" * max(len(compact) - 8, 0) + compact[-4:]
    return " ".join(hidden[i : i + 4] for i in range(0, len(hidden), 4))
