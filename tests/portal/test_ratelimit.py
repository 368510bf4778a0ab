"""Guessing identities through the chat is rate-limited per conversation and per client number."""

from __future__ import annotations

import httpx

from tests.portal.support import MARTIN, Portal

REGISTRATIONS = "/api/v1/registrations"
TOO_MANY = {"error": "rate_limited", "message": "Trop de tentatives, réessayez plus tard."}


def _guess(number: int) -> dict[str, str]:
    """A registration attempt with another (unknown) client number each time."""
    return {**MARTIN, "client_number": f"{10_000_000 + number}"}


def _assert_limited(response: httpx.Response) -> None:
    assert response.status_code == 429
    assert response.json() == TOO_MANY


async def test_conversation_is_limited_whatever_it_tries(portal: Portal) -> None:
    limit = portal.settings.rate_limit_per_conversation
    for attempt in range(limit):
        response = await portal.api(REGISTRATIONS, _guess(attempt), conversation_id="conv-a")
        assert response.status_code == 202
    before = await portal.snapshot()

    limited = [
        await portal.api(REGISTRATIONS, _guess(99), conversation_id="conv-a"),
        await portal.api(
            "/api/v1/identifier-reminders",
            {"client_number": "87654321", "surname": "Dupont"},
            conversation_id="conv-a",
        ),
        await portal.api(
            "/api/v1/password-resets", {"email": "a@example.org"}, conversation_id="conv-a"
        ),
        await portal.api(
            "/api/v1/activation-emails", {"email": "a@example.org"}, conversation_id="conv-a"
        ),
    ]

    for response in limited:
        _assert_limited(response)
    assert await portal.snapshot() == before  # no email queued, no account created
    other = await portal.api(REGISTRATIONS, MARTIN, conversation_id="conv-b")
    assert other.status_code == 202


async def test_client_number_is_limited_across_conversations(portal: Portal) -> None:
    limit = portal.settings.rate_limit_per_client_number
    wrong_surname = {**MARTIN, "surname": "Durand"}
    for attempt in range(limit):
        response = await portal.api(REGISTRATIONS, wrong_surname, conversation_id=f"c{attempt}")
        assert response.status_code == 202
    before = await portal.snapshot()

    right_surname = await portal.api(REGISTRATIONS, MARTIN, conversation_id="fresh")
    reminder = await portal.api(
        "/api/v1/identifier-reminders",
        {"client_number": "1234 5678", "surname": "Martin"},
        conversation_id="fresh-2",
    )
    without_conversation = await portal.api(REGISTRATIONS, MARTIN)

    for response in (right_surname, reminder, without_conversation):
        _assert_limited(response)
    assert await portal.snapshot() == before
    other_household = await portal.api(
        "/api/v1/identifier-reminders", {"client_number": "87654321", "surname": "Dupont"}
    )
    assert other_household.status_code == 202
