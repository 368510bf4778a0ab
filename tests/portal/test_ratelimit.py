"""Guessing identities through the chat is rate-limited per conversation and per client number;
the counters stay exact under concurrent requests, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bot.errors import RateLimited
from bot.portal.models import RateLimitCounter
from bot.portal.services import ratelimit
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


# --------------------------------------------------------------------------- concurrency

CONCURRENT = 30
LIMIT = 8
WINDOW = timedelta(minutes=15)


async def _hit_in_own_transaction(sessions: sessionmaker, key: str) -> None:
    async with sessions.begin() as session:
        await ratelimit.hit(session=session, key=key, limit=LIMIT, window=WINDOW)


@pytest.mark.parametrize("earlier_hits", [0, 3], ids=["new-counter", "existing-counter"])
async def test_concurrent_hits_accept_exactly_the_limit(
    sessions: sessionmaker, earlier_hits: int
) -> None:
    key = "conversation:concurrent"
    for _ in range(earlier_hits):
        await _hit_in_own_transaction(sessions, key)

    outcomes = await asyncio.gather(
        *(_hit_in_own_transaction(sessions, key) for _ in range(CONCURRENT)),
        return_exceptions=True,
    )

    others = [o for o in outcomes if o is not None and not isinstance(o, RateLimited)]
    assert others == []  # no IntegrityError, no "database is locked"
    accepted = sum(o is None for o in outcomes)
    assert accepted == LIMIT - earlier_hits
    assert CONCURRENT - accepted == CONCURRENT - LIMIT + earlier_hits
    async with sessions() as session:
        counts = list(await session.scalars(select(RateLimitCounter.hits)))
    assert counts == [LIMIT]  # one row: refused attempts roll back with their transaction


async def test_hit_counts_per_key_and_window(sessions: sessionmaker) -> None:
    async with sessions.begin() as session:
        counts = [
            await ratelimit.count(session=session, key=key, window=WINDOW)
            for key in ("a", "b", "a", "a")
        ]
        daily = await ratelimit.count(session=session, key="a", window=timedelta(days=1))
    assert counts == [1, 1, 2, 3]
    assert daily == 1
