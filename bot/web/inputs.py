"""Reading requests defensively: malformed, wrong-typed or oversized input is a 400, and a row id
in a path that no row can have is a 404, before anything reaches the database.

Row ids in paths use the route type ``id`` of an ``IdBlueprint`` (``/uploads/<slot_id:id>``),
never Sanic's ``int``: ``int`` takes ``-5``, ``٣`` or a hundred digits, and the database
answers a number beyond its column with an error (a 500) rather than with no row.
"""

from __future__ import annotations

import json as jsonlib
from typing import Any

from sanic import Blueprint, Request, Sanic
from sanic_routing import BaseRouter

from bot.errors import InvalidInput

MAX_FIELD_LENGTH = 500
#: The largest row id: the id columns are INTEGER, 32-bit on PostgreSQL (asyncpg refuses a
#: bigger parameter; SQLite overflows past 2**63), and no table comes near it.
MAX_ID = 2**31 - 1
#: The route parameter type of a row id (``<name:id>``, in an ``IdBlueprint``).
ID = "id"


def json_object(request: Request) -> dict[str, Any]:
    try:
        body = jsonlib.loads(request.body or b"")
    # A deeply nested body ("[[[[...") exhausts the recursion limit: still a client error.
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise InvalidInput(code="bad_json") from error
    if not isinstance(body, dict):
        raise InvalidInput(code="bad_json", variant="not_object")
    return body


def text_field(body: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise InvalidInput(code="missing_field", field=name)
        return ""
    if not isinstance(value, str):
        raise InvalidInput(code="wrong_type", variant="text", field=name)
    if len(value) > MAX_FIELD_LENGTH:
        raise InvalidInput(code="too_long", variant="field", field=name)
    return value.strip()


def form_field(request: Request, name: str) -> str:
    value = request.form.get(name, "") if request.form else ""
    if len(value) > MAX_FIELD_LENGTH:
        raise InvalidInput(code="too_long", field=name)
    return value


def conversation_id(request: Request) -> str:
    """The conversation the action server acts for (rate limits, verification grants)."""
    return request.headers.get("x-conversation-id", "")[:255]


def int_field(body: dict[str, Any], name: str, *, missing: str | None = None) -> int:
    """An integer given as a number or as digits ("7" from a button); ``missing`` is the
    variant of ``missing_field`` that words its absence (``bot/errors_fr.yml``)."""
    value = body.get(name)
    if value is None or value == "":
        raise InvalidInput(code="missing_field", variant=missing, field=name)
    digits = value.strip() if isinstance(value, str) else ""
    # ASCII digits only: "²" is a digit to str.isdigit() and no number to int().
    if digits.isascii() and digits.isdigit() and len(digits) <= 9:
        return int(digits)
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) > MAX_ID:  # no day or id is that large; the database would refuse it
            raise InvalidInput(code="out_of_range", field=name)
        return value
    raise InvalidInput(code="wrong_type", variant="number", field=name)


# --------------------------------------------------------------------------- row ids in paths


def row_id(segment: str) -> int:
    """The row id a path segment names: 1 to ``MAX_ID`` in ASCII digits, else ``ValueError``,
    which makes Sanic's router find no route (404 ``not_found``)."""
    if not (segment.isascii() and segment.isdigit()) or len(segment) > len(str(MAX_ID)):
        raise ValueError(f"not a row id: {segment[:20]!r}")
    value = int(segment)
    if not 1 <= value <= MAX_ID:
        raise ValueError(f"not a row id: {segment[:20]!r}")
    return value


def register_id_type(router: BaseRouter) -> None:
    """Give ``router`` the route type ``id`` (before any route using it is added)."""
    router.register_pattern(ID, row_id, r"^\d{1,10}$")


class IdBlueprint(Blueprint):
    """A blueprint whose routes take row ids as ``<name:id>``."""

    def register(self, app: Sanic, options: dict) -> None:
        register_id_type(app.router)
        super().register(app, options)


def client_ip(request: Request) -> str:
    """The client's address; ``remote_addr`` is set only behind a configured proxy
    (``FORWARDED_SECRET`` / ``REAL_IP_HEADER``)."""
    return request.remote_addr or request.ip or ""
