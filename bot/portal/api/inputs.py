"""Reading request bodies defensively: malformed, wrong-typed or oversized input is a 400."""

from __future__ import annotations

import json as jsonlib
from typing import Any

from sanic import Request

from bot.portal.errors import InvalidInput

MAX_FIELD_LENGTH = 500


def json_object(request: Request) -> dict[str, Any]:
    try:
        body = jsonlib.loads(request.body or b"")
    # A deeply nested body ("[[[[...") exhausts the recursion limit: still a client error.
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise InvalidInput(
            "Le corps de la requête n'est pas un JSON valide.", code="bad_json"
        ) from error
    if not isinstance(body, dict):
        raise InvalidInput("Le corps de la requête doit être un objet JSON.", code="bad_json")
    return body


def text_field(body: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise InvalidInput(
                f"Le champ « {name} » est obligatoire.", code="missing_field", field=name
            )
        return ""
    if not isinstance(value, str):
        raise InvalidInput(
            f"Le champ « {name} » doit être un texte.", code="wrong_type", field=name
        )
    if len(value) > MAX_FIELD_LENGTH:
        raise InvalidInput(f"Le champ « {name} » est trop long.", code="too_long", field=name)
    return value.strip()


def form_field(request: Request, name: str) -> str:
    value = request.form.get(name, "") if request.form else ""
    if len(value) > MAX_FIELD_LENGTH:
        raise InvalidInput("Valeur trop longue.", code="too_long", field=name)
    return value


def conversation_id(request: Request) -> str:
    """The conversation the action server acts for (rate limits, verification grants)."""
    return request.headers.get("x-conversation-id", "")[:255]


def int_field(body: dict[str, Any], name: str, *, missing: str = "") -> int:
    """An integer given as a number or as digits ("7" from a button)."""
    value = body.get(name)
    if value is None or value == "":
        raise InvalidInput(
            missing or f"Le champ « {name} » est obligatoire.", code="missing_field", field=name
        )
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 9:
        return int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise InvalidInput(f"Le champ « {name} » doit être un nombre.", code="wrong_type", field=name)
