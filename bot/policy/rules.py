"""Pure validation rules from the landlord's help page; no I/O so they are easy to table-test."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.errors import InvalidInput, message_text
from bot.policy.landlord import CLIENT_NUMBER_LENGTH

PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 128
EMAIL_MAX_LENGTH = 254
SURNAME_MAX_LENGTH = 120

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_SEPARATORS = re.compile(r"[\s.\-_/]")


def normalise_client_number(raw: str) -> str:
    """Return the client number (``CLIENT_NUMBER_LENGTH`` digits), accepting spaces or dots as
    typed on a rent notice."""
    compact = _SEPARATORS.sub("", raw or "")
    if not compact.isdigit() or not compact.isascii() or len(compact) != CLIENT_NUMBER_LENGTH:
        raise InvalidInput(
            code="invalid_client_number", field="client_number", length=CLIENT_NUMBER_LENGTH
        )
    return compact


def surname_key(raw: str) -> str:
    """Compare surnames without case, accents, spaces, hyphens or apostrophes."""
    decomposed = unicodedata.normalize("NFKD", raw or "")
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^a-z]", "", letters.casefold())


def normalise_surname(raw: str) -> str:
    cleaned = " ".join((raw or "").split())
    if not surname_key(cleaned) or len(cleaned) > SURNAME_MAX_LENGTH:
        raise InvalidInput(code="invalid_surname", field="surname")
    return cleaned


def normalise_email(raw: str) -> str:
    """Lower-case, trimmed email; rejects anything that cannot be a deliverable address."""
    email = (raw or "").strip().lower()
    if len(email) > EMAIL_MAX_LENGTH or not _EMAIL.match(email):
        raise InvalidInput(code="invalid_email", field="email")
    return email


@dataclass(frozen=True)
class PasswordRule:
    code: str
    description: str


#: Shown on the password pages so the tenant sees every rule before typing (their wording:
#: ``password.*`` in ``bot/errors_fr.yml``).
PASSWORD_RULES = (
    PasswordRule("length", message_text("password.length", minimum=PASSWORD_MIN_LENGTH)),
    PasswordRule("lower", message_text("password.lower")),
    PasswordRule("upper", message_text("password.upper")),
    PasswordRule("digit", message_text("password.digit")),
)


def password_problems(password: str, *, email: str = "") -> list[str]:
    """Descriptions of the rules the password breaks; empty when it is acceptable."""
    problems = []
    if len(password) < PASSWORD_MIN_LENGTH:
        problems.append(PASSWORD_RULES[0].description)
    if not any(c.islower() for c in password):
        problems.append(PASSWORD_RULES[1].description)
    if not any(c.isupper() for c in password):
        problems.append(PASSWORD_RULES[2].description)
    if not any(c.isdigit() for c in password):
        problems.append(PASSWORD_RULES[3].description)
    if len(password) > PASSWORD_MAX_LENGTH:
        problems.append(message_text("password.too_long", maximum=PASSWORD_MAX_LENGTH))
    local_part = email.split("@")[0]
    if len(local_part) >= 4 and local_part in password.lower():
        problems.append(message_text("password.not_email"))
    return problems


def check_password(password: str, *, email: str = "") -> None:
    problems = password_problems(password, email=email)
    if problems:
        raise InvalidInput(code="weak_password", field="password", problems=", ".join(problems))
