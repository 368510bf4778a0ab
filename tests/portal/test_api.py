"""The JSON API of the action server under bad input: always a clear French message with a
stable code, never a 500, and nothing changed in the database."""

from __future__ import annotations

import json

import pytest

from tests.portal.support import MARTIN, Portal

#: Every service route with a body it accepts.
VALID_BODIES: dict[str, dict[str, str]] = {
    "/api/v1/registrations": MARTIN,
    "/api/v1/activation-emails": {"email": "j.schmitt@example.org"},
    "/api/v1/identifier-reminders": {"client_number": "87654321", "surname": "Dupont"},
    "/api/v1/password-resets": {"email": "claire.dupont@example.org"},
    "/api/v1/handoffs": {"conversation_id": "conv-1", "reason": "tenant_asked"},
}
ROUTES = list(VALID_BODIES)

BAD_JSON = "Le corps de la requête n'est pas un JSON valide."
NOT_AN_OBJECT = "Le corps de la requête doit être un objet JSON."


def _assert_error(response, status: int, code: str, message: str, field: str | None = None):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    expected = {"error": code, "message": message}
    if field:
        expected["field"] = field
    assert response.json() == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b"", BAD_JSON, id="empty"),
        pytest.param(b"{", BAD_JSON, id="truncated"),
        pytest.param(b"{'email': 'x'}", BAD_JSON, id="single-quotes"),
        pytest.param(b"\xff\xfe\x00", BAD_JSON, id="not-utf8"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, BAD_JSON, id="deeply-nested"),
        pytest.param(b"[]", NOT_AN_OBJECT, id="array"),
        pytest.param(b'[{"email": "a@example.org"}]', NOT_AN_OBJECT, id="array-of-object"),
        pytest.param(b'"a@example.org"', NOT_AN_OBJECT, id="string"),
        pytest.param(b"null", NOT_AN_OBJECT, id="null"),
        pytest.param(b"42", NOT_AN_OBJECT, id="number"),
    ],
)
async def test_body_that_is_not_a_json_object(portal: Portal, body: bytes, message: str) -> None:
    before = await portal.snapshot()

    for route in ROUTES:
        response = await portal.client.post(
            route, content=body, headers={**portal.headers(), "Content-Type": "application/json"}
        )
        _assert_error(response, 400, "bad_json", message)

    assert await portal.snapshot() == before


WRONG_VALUES = {
    "missing": (None, "missing_field", "Le champ « {} » est obligatoire."),
    "empty": ("", "missing_field", "Le champ « {} » est obligatoire."),
    "number": (12345678, "wrong_type", "Le champ « {} » doit être un texte."),
    "boolean": (True, "wrong_type", "Le champ « {} » doit être un texte."),
    "list": (["12345678"], "wrong_type", "Le champ « {} » doit être un texte."),
    "object": ({"value": "x"}, "wrong_type", "Le champ « {} » doit être un texte."),
    "huge": ("9" * 10_000, "too_long", "Le champ « {} » est trop long."),
}


@pytest.mark.parametrize("kind", list(WRONG_VALUES))
async def test_field_of_the_wrong_kind(portal: Portal, kind: str) -> None:
    value, code, message = WRONG_VALUES[kind]
    before = await portal.snapshot()

    for route, valid in VALID_BODIES.items():
        for field in valid:
            body = {**valid, field: value}
            if kind == "missing":
                del body[field]
            response = await portal.api(route, body)
            _assert_error(response, 400, code, message.format(field), field)

    assert await portal.snapshot() == before


@pytest.mark.parametrize(
    ("route", "changes", "code", "message"),
    [
        (
            "/api/v1/registrations",
            {"client_number": "1234567"},
            "invalid_client_number",
            "Le numéro client comporte exactement 8 chiffres.",
        ),
        (
            "/api/v1/registrations",
            {"surname": "1234"},
            "invalid_surname",
            "Indiquez le nom de famille du signataire principal du bail.",
        ),
        (
            "/api/v1/registrations",
            {"email": "martin@example"},
            "invalid_email",
            "Cette adresse e-mail n'est pas valide.",
        ),
        (
            "/api/v1/identifier-reminders",
            {"client_number": "١٢٣٤٥٦٧٨"},
            "invalid_client_number",
            "Le numéro client comporte exactement 8 chiffres.",
        ),
        (
            "/api/v1/password-resets",
            {"email": "claire.dupont"},
            "invalid_email",
            "Cette adresse e-mail n'est pas valide.",
        ),
        (
            "/api/v1/activation-emails",
            {"email": "   "},
            "invalid_email",
            "Cette adresse e-mail n'est pas valide.",
        ),
        (
            "/api/v1/handoffs",
            {"reason": "bored"},
            "invalid_input",
            "Motif de transfert inconnu.",
        ),
        (
            "/api/v1/handoffs",
            {"conversation_id": "c" * 256},
            "invalid_input",
            "Identifiant de conversation invalide.",
        ),
    ],
)
async def test_field_that_breaks_a_rule(
    portal: Portal, route: str, changes: dict[str, str], code: str, message: str
) -> None:
    before = await portal.snapshot()

    response = await portal.api(route, {**VALID_BODIES[route], **changes})

    _assert_error(response, 400, code, message, next(iter(changes)))
    assert await portal.snapshot() == before


async def test_unknown_fields_are_ignored(portal: Portal) -> None:
    body = {**VALID_BODIES["/api/v1/password-resets"], "admin": True, "email2": 3}

    response = await portal.api("/api/v1/password-resets", body)

    assert response.status_code == 202


async def test_body_larger_than_the_limit_is_refused(portal: Portal) -> None:
    huge = json.dumps({"email": "a@example.org", "padding": "x" * 1_100_000})
    before = await portal.snapshot()

    for route in ROUTES:
        response = await portal.client.post(
            route, content=huge, headers={**portal.headers(), "Content-Type": "application/json"}
        )
        _assert_error(response, 413, "too_large", "Contenu trop volumineux.")

    assert await portal.snapshot() == before


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("Bearer", id="bearer-nothing"),
        pytest.param("Bearer wrong-token", id="wrong"),
        pytest.param("Basic ZGV2OmRldg==", id="basic"),
        pytest.param("Bearer dev-service-token-not-for-productio", id="prefix"),
        pytest.param("Bearer jéton".encode(), id="non-ascii"),
    ],
)
async def test_service_token_is_required(portal: Portal, authorization: str | bytes | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    before = await portal.snapshot()

    for route, body in VALID_BODIES.items():
        response = await portal.client.post(route, json=body, headers=headers)
        _assert_error(response, 401, "not_authenticated", "Jeton de service absent ou invalide.")

    assert await portal.snapshot() == before


async def test_token_is_checked_before_the_body(portal: Portal) -> None:
    response = await portal.client.post("/api/v1/registrations", content=b"{")

    _assert_error(response, 401, "not_authenticated", "Jeton de service absent ou invalide.")


@pytest.mark.parametrize(
    "path", ["/api/v1/unknown", "/api/v2/registrations", "/api/v1/registrations/1", "/nowhere"]
)
async def test_unknown_route_is_a_json_404(portal: Portal, path: str) -> None:
    response = await portal.client.post(path, json={}, headers=portal.headers())

    _assert_error(response, 404, "not_found", "Page introuvable.")


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
async def test_wrong_method_is_a_json_405(portal: Portal, method: str) -> None:
    before = await portal.snapshot()

    for route in ROUTES:
        response = await portal.client.request(method, route, headers=portal.headers())
        _assert_error(response, 405, "method_not_allowed", "Méthode non autorisée.")

    assert await portal.snapshot() == before


async def test_health(portal: Portal) -> None:
    response = await portal.client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert (await portal.client.post("/health")).status_code == 405


async def test_handoff_is_recorded(portal: Portal) -> None:
    body = {
        "conversation_id": "conv-42",
        "reason": "bot_gave_up",
        "channel": "telegram",
        "topic": "assurance",
    }

    response = await portal.api("/api/v1/handoffs", body)

    assert response.status_code == 201
    answer = response.json()
    assert (answer["id"], answer["status"]) == (1, "recorded")
    assert isinstance(answer["open_now"], bool)
    (row,) = (await portal.snapshot())["handoff_requests"]
    assert row[1:6] == ("conv-42", "telegram", "bot_gave_up", "assurance", None)


async def test_handoff_from_an_unknown_channel_is_kept(portal: Portal) -> None:
    body = {
        "conversation_id": "conv-43",
        "reason": "tenant_asked",
        "channel": "pigeon",
        "topic": "t" * 100,
    }

    assert (await portal.api("/api/v1/handoffs", body)).status_code == 201

    (row,) = (await portal.snapshot())["handoff_requests"]
    assert row[2] == "unknown"
    assert row[4] == "t" * 64


async def test_long_conversation_header_is_accepted(portal: Portal) -> None:
    response = await portal.api(
        "/api/v1/password-resets", {"email": "inconnu@example.org"}, conversation_id="c" * 2000
    )

    assert response.status_code == 202
