"""``bot/portal/api/openapi.yaml`` describes the JSON API the app really serves, both ways, and
real answers match its schemas."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from sanic import Sanic

import bot.portal.api
from bot.app import create_app
from bot.settings import Settings
from tests.portal.support import MARTIN, Portal

SPEC_PATH = Path(bot.portal.api.__file__).parent / "openapi.yaml"
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


@pytest.fixture
def app_operations(tmp_path: Path) -> Iterator[set[tuple[str, str]]]:
    """(METHOD, /path/{param}) of every route of the app under /api/, and /health."""
    app = create_app(Settings(var_dir=tmp_path))
    operations = set()
    for route in app.router.routes:
        path = re.sub(r"<(\w+)(:[^>]*)?>", r"{\1}", "/" + route.path.lstrip("/"))
        if path.startswith("/api/") or path == "/health":
            operations |= {(method.upper(), path) for method in route.methods}
    yield operations
    Sanic._app_registry.pop(app.name, None)


def _spec_operations(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in METHODS
    }


def _deref(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` (local references only) until a concrete object."""
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _all_refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _all_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _all_refs(item)


def _validator(spec: dict[str, Any], schema: dict[str, Any]) -> jsonschema.Draft4Validator:
    """OpenAPI 3.0 schemas are (nearly) JSON Schema draft 4; local refs resolve in the spec."""
    return jsonschema.Draft4Validator(
        schema, resolver=jsonschema.RefResolver.from_schema(spec), format_checker=None
    )


def _response_schema(spec: dict[str, Any], method: str, path: str, status: int) -> dict:
    operation = spec["paths"][path][method.lower()]
    response = _deref(spec, operation["responses"][str(status)])
    return response["content"]["application/json"]["schema"]


def _check_response(spec: dict[str, Any], method: str, path: str, answer: httpx.Response):
    schema = _response_schema(spec, method, path, answer.status_code)
    _validator(spec, schema).validate(answer.json())


# --------------------------------------------------------------------------- the document


def test_document_is_openapi_3_0(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.0.")
    assert spec["info"]["title"] and spec["info"]["version"]
    assert spec["components"]["securitySchemes"]["serviceToken"] == {
        **spec["components"]["securitySchemes"]["serviceToken"],
        "type": "http",
        "scheme": "bearer",
    }
    assert spec["security"] == [{"serviceToken": []}]
    ids = [
        op["operationId"]
        for item in spec["paths"].values()
        for method, op in item.items()
        if method in METHODS
    ]
    assert len(ids) == len(set(ids))


def test_every_reference_resolves(spec: dict[str, Any]) -> None:
    for ref in set(_all_refs(spec)):
        assert ref.startswith("#/"), ref
        _deref(spec, {"$ref": ref})


def test_every_schema_is_valid_json_schema(spec: dict[str, Any]) -> None:
    for schema in spec["components"]["schemas"].values():
        jsonschema.Draft4Validator.check_schema(schema)


def test_every_app_route_is_documented(
    spec: dict[str, Any], app_operations: set[tuple[str, str]]
) -> None:
    assert app_operations - _spec_operations(spec) == set()


def test_every_documented_operation_exists(
    spec: dict[str, Any], app_operations: set[tuple[str, str]]
) -> None:
    assert _spec_operations(spec) - app_operations == set()


def test_api_operations_need_the_token_and_document_their_errors(spec: dict[str, Any]) -> None:
    error_ref = "#/components/schemas/Error"
    for method, path in _spec_operations(spec):
        operation = spec["paths"][path][method.lower()]
        if not path.startswith("/api/"):
            assert operation.get("security") == []
            continue
        assert "security" not in operation, f"{method} {path} must keep the service token"
        assert "401" in operation["responses"], f"{method} {path}"
        if method == "POST":
            assert operation["requestBody"]["required"] is True
            assert {"400", "413"} <= set(operation["responses"]), f"{method} {path}"
        for status, response in operation["responses"].items():
            if status.startswith("4"):
                schema = _deref(spec, response)["content"]["application/json"]["schema"]
                refs = [schema.get("$ref")] + [s.get("$ref") for s in schema.get("oneOf", [])]
                assert error_ref in refs, f"{method} {path} {status}"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/registrations",
        "/api/v1/activation-emails",
        "/api/v1/identifier-reminders",
        "/api/v1/password-resets",
    ],
)
def test_rate_limited_operations_document_the_conversation_header(
    spec: dict[str, Any], path: str
) -> None:
    operation = spec["paths"][path]["post"]
    headers = [_deref(spec, parameter) for parameter in operation["parameters"]]

    assert [(h["name"], h["in"]) for h in headers] == [("X-Conversation-Id", "header")]
    assert "429" in operation["responses"]


@pytest.mark.parametrize(
    ("path", "body", "valid"),
    [
        ("/api/v1/registrations", MARTIN, True),
        ("/api/v1/registrations", {"client_number": "12345678", "surname": "Martin"}, False),
        ("/api/v1/registrations", {**MARTIN, "email": 3}, False),
        ("/api/v1/identifier-reminders", {"client_number": "1234 5678", "surname": "x"}, True),
        ("/api/v1/password-resets", {"email": "a@example.org"}, True),
        ("/api/v1/activation-emails", {}, False),
        ("/api/v1/handoffs", {"conversation_id": "c", "reason": "tenant_asked"}, True),
        ("/api/v1/handoffs", {"conversation_id": "c", "reason": "bored"}, False),
    ],
)
def test_request_schemas_agree_with_the_app(
    spec: dict[str, Any], path: str, body: dict[str, Any], valid: bool
) -> None:
    schema = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]

    assert _validator(spec, schema).is_valid(body) is valid


# --------------------------------------------------------------------------- real answers


async def test_real_answers_match_their_schemas(portal: Portal, spec: dict[str, Any]) -> None:
    registrations = "/api/v1/registrations"
    answers = [
        ("GET", "/health", await portal.client.get("/health")),
        ("POST", registrations, await portal.api(registrations, MARTIN)),
        ("POST", registrations, await portal.api(registrations, {**MARTIN, "email": "x"})),
        ("POST", registrations, await portal.client.post(registrations, json=MARTIN)),
        (
            "POST",
            registrations,
            await portal.client.post(
                registrations, content=b"x" * 1_100_000, headers=portal.headers()
            ),
        ),
        (
            "POST",
            "/api/v1/handoffs",
            await portal.api("/api/v1/handoffs", {"conversation_id": "c", "reason": "bot_gave_up"}),
        ),
    ]

    assert [answer.status_code for *_, answer in answers] == [200, 202, 400, 401, 413, 201]
    for method, path, answer in answers:
        _check_response(spec, method, path, answer)


async def test_rate_limited_answer_matches_its_schema(portal: Portal, spec: dict[str, Any]) -> None:
    path = "/api/v1/password-resets"
    for _ in range(portal.settings.rate_limit_per_conversation + 1):
        answer = await portal.api(path, {"email": "a@example.org"}, conversation_id="c")

    assert answer.status_code == 429
    _check_response(spec, "POST", path, answer)
