"""Row ids in paths and integer fields in bodies: a number no row can have is a 404 (path) or a
400 (body), never a 500 from the database (issue 9: ``/api/v1/uploads/2**63`` and the staff
pages answered 500)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sanic import Sanic

from bot.app import create_app
from bot.errors import InvalidInput
from bot.settings import Settings
from bot.web.inputs import MAX_ID, int_field, row_id
from tests.portal.support import Portal, verify_conversation

CLAIRE = "claire.dupont@example.org"
#: Path segments that name no row: past 64 bits, past PostgreSQL's INTEGER, zero, negative,
#: and what Python's int() takes but a row id is not.
NO_ROW = [
    str(2**63),
    str(2**64),
    "9" * 40,
    str(MAX_ID + 1),
    "0",
    "-1",
    "-9223372036854775809",
    "+5",
    "\u0663",  # ARABIC-INDIC DIGIT THREE
    "1_000",
]


def _types(path: str) -> set[str]:
    """The parameter types of a route path (``<slot_id:id>`` -> ``id``)."""
    return set(re.findall(r"<\w+:(\w+)>", path))


def id_routes(tmp_path: Path) -> list[tuple[str, str]]:
    """(METHOD, path template) of every route of the app that takes a row id."""
    app = create_app(Settings(var_dir=tmp_path))
    try:
        return sorted(
            (method, "/" + route.path.lstrip("/"))
            for route in app.router.routes
            if "id" in _types(route.path)
            for method in route.methods
        )
    finally:
        Sanic._app_registry.pop(app.name, None)


ID_ROUTES = id_routes(Path("/nonexistent-var-dir"))
API_ID_ROUTES = [(method, path) for method, path in ID_ROUTES if path.startswith("/api/")]


def test_every_route_with_a_number_in_its_path_takes_a_row_id(tmp_path: Path) -> None:
    """Sanic's ``int`` would pass -1 or 2**64 to the handler; ``id`` is the bounded type."""
    app = create_app(Settings(var_dir=tmp_path))
    try:
        unbounded = [
            route.path
            for route in app.router.routes
            if _types(route.path) & {"int", "float", "number"}
        ]
    finally:
        Sanic._app_registry.pop(app.name, None)
    assert unbounded == []
    paths = {path for _method, path in ID_ROUTES}
    assert "/api/v1/uploads/<slot_id:id>" in paths
    assert any(path.startswith("/staff/reprises/") for path in paths)
    assert any(path.startswith("/staff/validations/") for path in paths)
    assert any(path.startswith("/staff/administration/comptes/") for path in paths)


@pytest.mark.parametrize(("method", "template"), API_ID_ROUTES)
async def test_an_id_no_row_can_have_is_not_found(
    portal: Portal, method: str, template: str
) -> None:
    await verify_conversation(portal, CLAIRE, "ids")
    for segment in NO_ROW:
        path = re.sub(r"<\w+:id>", segment, template)
        response = await portal.client.request(method, path, headers=portal.headers("ids"))
        assert response.status_code == 404, (method, path, response.text[:200])


async def test_the_largest_id_reaches_the_handler(portal: Portal) -> None:
    await verify_conversation(portal, CLAIRE, "ids")
    response = await portal.client.get(f"/api/v1/uploads/{MAX_ID}", headers=portal.headers("ids"))
    # The handler ran and found no upload link of that household.
    assert response.status_code == 404 and response.json()["error"] != "not_found"


@pytest.mark.parametrize(("segment", "expected"), [("1", 1), ("0042", 42), (str(MAX_ID), MAX_ID)])
def test_row_id_reads_ascii_digits_within_the_column(segment: str, expected: int) -> None:
    assert row_id(segment) == expected


@pytest.mark.parametrize("segment", NO_ROW + ["", " 1", "1.0", "1e3"])
def test_row_id_refuses_anything_else(segment: str) -> None:
    with pytest.raises(ValueError):
        row_id(segment)


@pytest.mark.parametrize(
    ("value", "expected"), [(7, 7), ("7", 7), (" 28 ", 28), (-3, -3), (MAX_ID, MAX_ID)]
)
def test_int_field_reads_numbers_and_digits(value: object, expected: int) -> None:
    assert int_field({"n": value}, "n") == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (2**63, "out_of_range"),
        (-(2**63) - 1, "out_of_range"),
        (MAX_ID + 1, "out_of_range"),
        ("\u00b2", "wrong_type"),  # SUPERSCRIPT TWO: str.isdigit() says yes, int() says no
        ("\u0663", "wrong_type"),
        ("1234567890", "wrong_type"),
        (True, "wrong_type"),
        (1.5, "wrong_type"),
        ([1], "wrong_type"),
    ],
)
def test_int_field_refuses_what_no_field_can_hold(value: object, code: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        int_field({"n": value}, "n")
    assert (raised.value.code, raised.value.field) == (code, "n")


#: Valid bodies but for the integer field under test (which the handler reads last).
INSURANCE = {
    "insurer": "MAAF",
    "policy_number": "AB123456",
    "valid_until": (date.today() + timedelta(days=180)).strftime("%d/%m/%Y"),
}
DIRECT_DEBIT = {
    "iban": "FR7630006000011234567890189",
    "holder_name": "Claire Dupont",
    "address": "1 rue de la Paix, 75001 Paris",
}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/insurance-submissions", {**INSURANCE, "upload_slot_id": 2**63}),
        ("/api/v1/insurance-submissions", {**INSURANCE, "upload_slot_id": MAX_ID + 1}),
        ("/api/v1/insurance-submissions", {**INSURANCE, "upload_slot_id": "\u00b2"}),
        ("/api/v1/direct-debits", {**DIRECT_DEBIT, "debit_day": 2**64, "rib_slot_id": 1}),
        ("/api/v1/direct-debits", {**DIRECT_DEBIT, "debit_day": 7, "rib_slot_id": 2**63}),
        ("/api/v1/direct-debits", {**DIRECT_DEBIT, "debit_day": 7, "rib_slot_id": MAX_ID + 1}),
    ],
)
async def test_an_integer_field_no_column_can_hold_is_a_400(
    portal: Portal, path: str, body: dict
) -> None:
    await verify_conversation(portal, CLAIRE, "ids")
    before = await portal.snapshot()

    response = await portal.api(path, body, conversation_id="ids")

    assert response.status_code == 400, response.text
    assert await portal.snapshot() == before
