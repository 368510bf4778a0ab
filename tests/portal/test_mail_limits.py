"""Emails with a code or a link are limited per recipient address: past the limit nothing is
sent, nothing is revoked, and the answer is the same as for a sent email."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bot.portal.models import OneTimeToken, RateLimitCounter, TokenPurpose
from bot.portal.services import mail_limits, ratelimit
from bot.settings import Settings
from tests.portal.support import Mailbox, Portal, outbox

CLAIRE = "claire.dupont@example.org"
SCHMITT = "j.schmitt@example.org"
ACCEPTED = {"status": "accepted"}
(PER_QUARTER, QUARTER), (PER_DAY, DAY) = mail_limits.per_address(Settings())


async def _emails_to(portal: Portal, address: str, template: str | None = None) -> int:
    return sum(
        e.to_address == address and template in (None, e.template)
        for e in await outbox(portal.sessions)
    )


# --------------------------------------------------------------------------- the counting


class Clock:
    """``utcnow`` of the rate limiter, moved by hand."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = datetime(2024, 3, 4, 8, 0, tzinfo=timezone.utc)
        monkeypatch.setattr(ratelimit, "utcnow", lambda: self.now)


async def _may(sessions: sessionmaker, recipient: str, times: int = 1) -> list[bool]:
    async with sessions.begin() as session:
        return [
            await mail_limits.may_email(session=session, settings=Settings(), recipient=recipient)
            for _ in range(times)
        ]


async def test_limits_per_quarter_and_per_day(
    sessions: sessionmaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    allowed_per_quarter = [PER_QUARTER * [True] + [False]]
    days_worth = PER_DAY // PER_QUARTER

    answers = []
    for _ in range(days_worth + 1):
        answers.append(await _may(sessions, "Someone@Example.org ", PER_QUARTER + 1))
        clock.now += QUARTER

    assert answers == days_worth * allowed_per_quarter + [(PER_QUARTER + 1) * [False]]
    clock.now += DAY
    assert await _may(sessions, "someone@example.org") == [True]


async def test_a_flood_does_not_use_up_the_day(
    sessions: sessionmaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    assert (await _may(sessions, "a@example.org", 100)).count(True) == PER_QUARTER

    clock.now += QUARTER
    assert (await _may(sessions, "a@example.org", 100)).count(True) == PER_QUARTER


async def test_counters_name_no_address(sessions: sessionmaker) -> None:
    await _may(sessions, CLAIRE)
    async with sessions() as session:
        keys = list(await session.scalars(select(RateLimitCounter.key)))
    assert len(keys) == len(mail_limits.WINDOWS)
    assert all(key.startswith("email:") and "claire" not in key for key in keys)
    assert sorted(keys) == sorted(mail_limits.recipient_keys(CLAIRE.upper()))


# --------------------------------------------------------------------------- through the API


async def test_every_route_shares_the_address_quota(portal: Portal) -> None:
    requests = [
        ("/api/v1/password-resets", {"email": CLAIRE}),
        ("/api/v1/verifications", {"email": CLAIRE}),
        ("/api/v1/identifier-reminders", {"client_number": "87654321", "surname": "Dupont"}),
        ("/api/v1/password-resets", {"email": "Claire.Dupont@example.org"}),
        ("/api/v1/verifications", {"client_number": "87654321", "surname": "Dupont"}),
        # The quota is used up: these send nothing, with the same answer.
        ("/api/v1/password-resets", {"email": CLAIRE}),
        ("/api/v1/identifier-reminders", {"client_number": "87654321", "surname": "Dupont"}),
        ("/api/v1/verifications", {"email": CLAIRE}),
    ]
    for number, (path, body) in enumerate(requests):
        response = await portal.api(path, body, conversation_id=f"chat-{number}")
        assert (response.status_code, response.json()) == (202, ACCEPTED), path

    assert await _emails_to(portal, CLAIRE) == PER_QUARTER


async def test_registrations_cannot_flood_any_address(portal: Portal) -> None:
    victim = "quelquun@example.org"
    for number in range(PER_QUARTER + 3):
        body = {"client_number": f"{20_000_000 + number}", "surname": "X", "email": victim}
        response = await portal.api("/api/v1/registrations", body, conversation_id=f"c{number}")
        assert (response.status_code, response.json()) == (202, ACCEPTED)

    assert await _emails_to(portal, victim, "registration_unmatched") == PER_QUARTER


async def test_a_refused_activation_resend_keeps_the_last_link(
    portal: Portal, mailbox: Mailbox
) -> None:
    for number in range(PER_QUARTER):
        response = await portal.api(
            "/api/v1/activation-emails", {"email": SCHMITT}, conversation_id=f"c{number}"
        )
        assert response.status_code == 202
    last = await mailbox.wait_for(to=SCHMITT, subject="Activez", count=PER_QUARTER)
    (link,) = last.links
    before = await portal.snapshot()

    for path in ("/api/v1/activation-emails", "/api/v1/password-resets"):
        refused = await portal.api(path, {"email": SCHMITT}, conversation_id="another")
        assert (refused.status_code, refused.json()) == (202, ACCEPTED)

    after = await portal.snapshot()
    assert after["one_time_tokens"] == before["one_time_tokens"]  # nothing issued nor revoked
    assert after["outbox_emails"] == before["outbox_emails"]
    assert (await portal.open_link(link)).status_code == 200


async def test_concurrent_resets_send_the_quota_and_answer_alike(portal: Portal) -> None:
    responses = await asyncio.gather(
        *(
            portal.api("/api/v1/password-resets", {"email": CLAIRE}, conversation_id=f"c{n}")
            for n in range(30)
        )
    )

    assert {(r.status_code, r.text) for r in responses} == {(202, responses[0].text)}
    assert responses[0].json() == ACCEPTED
    assert await _emails_to(portal, CLAIRE, "password_reset") == PER_QUARTER
    async with portal.sessions() as session:
        live = list(
            await session.scalars(
                select(OneTimeToken).where(
                    OneTimeToken.purpose == TokenPurpose.PASSWORD_RESET,
                    OneTimeToken.revoked_at.is_(None),
                )
            )
        )
    assert len(live) == 1  # each link sent revoked the one before
