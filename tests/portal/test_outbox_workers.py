"""Several outbox workers at once, and a relay down for a long time: each email is sent exactly
once, nothing is lost, and what is given up on is reported (bot/portal/services/outbox.py)."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtplib import SMTPConnectError
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bot.mail.smtp import SmtpSender
from bot.portal.db import create_engine, session_factory
from bot.portal.models import OutboxEmail, utcnow
from bot.portal.services.outbox import (
    OutboxCounts,
    OutboxPolicy,
    Undeliverable,
    deliver_round,
    enqueue_email,
    outbox_counts,
    policy_from_settings,
)
from bot.portal.services.outbox_claims import claim_due
from bot.settings import Settings
from tests.portal.support import Mailbox, free_port, outbox

#: Every test here must end within this many seconds.
BOUND = 20


class FakeClock:
    """The outbox's clock, moved by hand: an hour of outage passes in a few rounds."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


async def _queue(sessions: sessionmaker, count: int, template: str = "verification_code") -> None:
    async with sessions.begin() as session:
        for number in range(count):
            await enqueue_email(
                session=session,
                to=f"tenant{number:03d}@example.org",
                template=template,
                code=str(424242 + number),
                minutes=10,
                portal_url="http://x",
            )


async def _counts(sessions: sessionmaker) -> OutboxCounts:
    async with sessions() as session:
        return await outbox_counts(session)


async def _next_due(sessions: sessionmaker) -> datetime | None:
    """When the earliest waiting email is due again."""
    waiting = [e for e in await outbox(sessions) if not (e.sent_at or e.failed_at)]
    return min((e.next_attempt_at for e in waiting), default=None)


async def _live_until_settled(
    sessions: sessionmaker, send: object, clock: FakeClock, policy: OutboxPolicy
) -> int:
    """Run rounds, jumping the clock to the next retry each time; return the rounds run."""
    rounds = 0
    while (due := await _next_due(sessions)) is not None:
        clock.now = max(clock.now, due)
        await deliver_round(sessions=sessions, send=send, policy=policy, clock=clock)
        rounds += 1
        assert rounds < 500, "the outbox never settled"
    return rounds


# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture
def pg_url(empty_postgres_url: str) -> str:
    """Skips with the reason when PostgreSQL cannot be reached (``postgres_url``)."""
    return empty_postgres_url


@pytest.mark.postgres
async def test_three_workers_send_fifty_emails_exactly_once(
    pg_url: str, settings: Settings, mailbox: Mailbox
) -> None:
    """Three workers (each its own connection pool, as separate portal processes) drain the
    outbox together through a real SMTP server: each email arrives once."""
    engines = [create_engine(pg_url) for _ in range(3)]
    try:
        await _queue(session_factory(engines[0]), 50)
        smtp = SmtpSender(settings, timeout=5)
        sent_by: dict[str, list[int]] = {f"worker{n}": [] for n in range(3)}
        policy = OutboxPolicy(concurrency=3, batch=4)

        async def work(name: str, sessions: sessionmaker) -> None:
            async def send(email: OutboxEmail) -> None:
                await smtp(email)
                sent_by[name].append(email.id)

            while (
                await deliver_round(sessions=sessions, send=send, policy=policy, worker=name)
            ).claimed:
                pass

        workers = [work(name, session_factory(e)) for name, e in zip(sent_by, engines, strict=True)]
        await asyncio.wait_for(asyncio.gather(*workers), BOUND)

        sent = [email_id for ids in sent_by.values() for email_id in ids]
        assert sorted(sent) == list(range(1, 51))
        received = Counter(email.to for email in mailbox.emails())
        assert received == {f"tenant{n:03d}@example.org": 1 for n in range(50)}
        sessions = session_factory(engines[0])
        assert await _counts(sessions) == OutboxCounts(pending=0, abandoned=0)
        assert all(e.attempts == 1 and e.claimed_by is None for e in await outbox(sessions))
    finally:
        for engine in engines:
            await engine.dispose()


@pytest.mark.postgres
async def test_a_claim_skips_rows_another_worker_has_locked(pg_url: str) -> None:
    """While one worker's claim transaction holds rows, another claims the rest at once
    (SKIP LOCKED) instead of waiting for it."""
    first, second = create_engine(pg_url), create_engine(pg_url)
    try:
        sessions = session_factory(first)
        await _queue(sessions, 4)
        async with sessions.begin() as holding:
            locked = select(OutboxEmail.id).where(OutboxEmail.id <= 2).with_for_update()
            assert len((await holding.scalars(locked)).all()) == 2
            other = claim_due(
                sessions=session_factory(second),
                token="other/1",
                now=utcnow(),
                lease=timedelta(minutes=5),
                limit=10,
            )
            assert await asyncio.wait_for(other, 5) == [3, 4]
    finally:
        await first.dispose()
        await second.dispose()


# --------------------------------------------------------------------------- both databases


async def test_a_dead_workers_claim_lapses_and_its_emails_are_sent_by_another(
    sessions: sessionmaker,
) -> None:
    await _queue(sessions, 3)
    clock = FakeClock()
    lease = timedelta(minutes=5)
    dead = await claim_due(sessions=sessions, token="dead/1", now=clock(), lease=lease, limit=10)
    assert len(dead) == 3  # ... and the worker dies before sending anything
    accepted: list[int] = []

    async def relay(email: OutboxEmail) -> None:
        accepted.append(email.id)

    policy = OutboxPolicy(lease=lease)
    during = await deliver_round(sessions=sessions, send=relay, policy=policy, clock=clock)
    clock.advance(lease + timedelta(seconds=1))
    after = await deliver_round(sessions=sessions, send=relay, policy=policy, clock=clock)

    assert (during.claimed, after.sent) == (0, 3)
    assert sorted(accepted) == dead
    emails = await outbox(sessions)
    assert all(e.sent_at and e.attempts == 1 and e.claimed_until is None for e in emails)


async def test_a_relay_down_for_an_hour_loses_nothing(
    sessions: sessionmaker, settings: Settings, mailbox: Mailbox
) -> None:
    """The relay refuses every connection for a simulated hour, then accepts: every email
    arrives once, within one back-off step of the relay's return."""
    await _queue(sessions, 5)
    clock = FakeClock()
    back = clock() + timedelta(hours=1)
    smtp = SmtpSender(settings, timeout=5)
    refused = 0

    async def relay(email: OutboxEmail) -> None:
        nonlocal refused
        if clock() < back:
            refused += 1
            raise SMTPConnectError("Connection refused")
        await smtp(email)

    policy = OutboxPolicy()
    await asyncio.wait_for(_live_until_settled(sessions, relay, clock, policy), BOUND)

    received = Counter(email.to for email in mailbox.emails())
    assert received == {f"tenant{n:03d}@example.org": 1 for n in range(5)}
    emails = await outbox(sessions)
    assert all(e.sent_at and e.failed_at is None and e.text_body == "" for e in emails)
    assert all(back <= e.sent_at <= back + policy.retry_cap for e in emails)
    assert refused >= 5 * 8 and min(e.attempts for e in emails) > 8
    assert await _counts(sessions) == OutboxCounts(pending=0, abandoned=0)


async def test_an_email_refused_past_the_horizon_is_given_up_and_reported(
    sessions: sessionmaker, caplog: pytest.LogCaptureFixture
) -> None:
    await _queue(sessions, 1)
    await _queue(sessions, 1, template="password_changed")  # tenant000@ again: sent below
    clock = FakeClock()

    async def relay(email: OutboxEmail) -> None:
        if email.template == "verification_code":
            raise ConnectionRefusedError("relay refuses tenant000@example.org")

    policy = OutboxPolicy()
    with caplog.at_level(logging.WARNING, logger="bot.portal.services.outbox"):
        await asyncio.wait_for(_live_until_settled(sessions, relay, clock, policy), BOUND)

    abandoned, sent = await outbox(sessions)
    assert sent.sent_at is not None
    assert abandoned.failed_at is not None and abandoned.text_body == ""
    age = abandoned.failed_at - abandoned.created_at
    assert policy.give_up_after <= age < policy.give_up_after + timedelta(minutes=1)
    (report,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    message = report.getMessage()
    assert f"outbox email {abandoned.id} (verification_code) abandoned" in message
    assert "example.org" not in message and "424242" not in message
    assert not any("example.org" in r.getMessage() for r in caplog.records)
    assert await _counts(sessions) == OutboxCounts(pending=0, abandoned=1)


async def test_a_burst_is_sent_in_parallel_up_to_the_bound(sessions: sessionmaker) -> None:
    await _queue(sessions, 12)
    in_flight = most = 0

    async def slow_relay(email: OutboxEmail) -> None:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.05)
        in_flight -= 1

    policy = OutboxPolicy(concurrency=4, batch=20)
    result = await asyncio.wait_for(
        deliver_round(sessions=sessions, send=slow_relay, policy=policy), BOUND
    )

    assert (result.claimed, result.sent, most) == (12, 12, 4)
    assert await _counts(sessions) == OutboxCounts(pending=0, abandoned=0)


async def test_one_addresss_emails_arrive_in_the_order_they_were_queued(
    sessions: sessionmaker,
) -> None:
    """Two activation links asked in a row: the second revokes the first, so it must arrive
    last; other addresses' emails still go out beside them."""
    async with sessions.begin() as session:
        for number in range(6):
            await enqueue_email(
                session=session,
                to="claire.dupont@example.org" if number % 2 else "minh.nguyen@example.org",
                template="verification_code",
                code=str(424242 + number),
                minutes=10,
                portal_url="http://x",
            )
    arrived: list[tuple[str, int]] = []
    in_flight = most = 0

    async def relay(email: OutboxEmail) -> None:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.05 if email.id % 3 == 1 else 0.01)  # the first ones are slow
        in_flight -= 1
        arrived.append((email.to_address, email.id))

    policy = OutboxPolicy(concurrency=4, batch=20)
    await asyncio.wait_for(deliver_round(sessions=sessions, send=relay, policy=policy), BOUND)

    for address in ("claire.dupont@example.org", "minh.nguyen@example.org"):
        ids = [email_id for to, email_id in arrived if to == address]
        assert ids == sorted(ids) and len(ids) == 3
    assert most == 2


async def test_an_email_whose_lease_would_lapse_while_waiting_is_released_unsent(
    sessions: sessionmaker,
) -> None:
    """One slot and a send that takes the whole lease: the second email is not sent late
    (another worker may already own it), but released and sent by the next round."""
    await _queue(sessions, 2)
    clock = FakeClock()
    policy = OutboxPolicy(concurrency=1, lease=timedelta(minutes=5))
    accepted: list[int] = []

    async def relay(email: OutboxEmail) -> None:
        accepted.append(email.id)
        clock.advance(timedelta(minutes=4, seconds=30))

    first = await deliver_round(sessions=sessions, send=relay, policy=policy, clock=clock)
    second = await deliver_round(sessions=sessions, send=relay, policy=policy, clock=clock)

    assert (first.claimed, first.sent, second.sent, accepted) == (2, 1, 1, [1, 2])
    assert all(e.attempts == 1 and e.claimed_by is None for e in await outbox(sessions))


async def test_an_outcome_is_not_recorded_by_a_round_that_lost_its_claim(
    sessions: sessionmaker,
) -> None:
    """A stalled worker's round whose lease was taken over does not overwrite the new claim."""
    await _queue(sessions, 1)
    clock = FakeClock()
    policy = OutboxPolicy(lease=timedelta(minutes=5))

    async def stolen(email: OutboxEmail) -> None:
        async with sessions.begin() as session:  # another worker claims it meanwhile
            row = await session.get(OutboxEmail, email.id)
            row.claimed_by = "other/1"

    result = await deliver_round(sessions=sessions, send=stolen, policy=policy, clock=clock)

    (email,) = await outbox(sessions)
    assert (result.sent, email.sent_at, email.attempts, email.claimed_by) == (1, None, 0, "other/1")


class PickyRelay:
    """An SMTP server that has no mailbox for ``nobody@`` (550), and a full one for ``full@``
    (452, temporary)."""

    def __init__(self) -> None:
        self.accepted: list[str] = []

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: object, session: object, envelope: object, address: str, options: object
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user"
        if address.startswith("full@"):
            return "452 4.2.2 Mailbox full"
        envelope.rcpt_tos.append(address)  # type: ignore[attr-defined]
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: object, session: object, envelope: object
    ) -> str:
        self.accepted.extend(envelope.rcpt_tos)  # type: ignore[attr-defined]
        return "250 Message accepted"


async def test_an_address_refused_for_good_is_given_up_at_once(
    sessions: sessionmaker, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """A 550 for the recipient is not retried for a day; a 452 (mailbox full) is."""
    async with sessions.begin() as session:
        for to in ("nobody@example.org", "full@example.org", "tenant@example.org"):
            await enqueue_email(session=session, to=to, template="password_changed", portal_url="x")
    handler = PickyRelay()
    relay_settings = settings.with_overrides(smtp_port=free_port())
    controller = Controller(
        handler, hostname=relay_settings.smtp_host, port=relay_settings.smtp_port
    )
    controller.start()
    try:
        with caplog.at_level(logging.WARNING, logger="bot.portal.services.outbox"):
            send = SmtpSender(relay_settings, timeout=5)
            result = await asyncio.wait_for(deliver_round(sessions=sessions, send=send), BOUND)
    finally:
        controller.stop()

    nobody, full, tenant = await outbox(sessions)
    assert (result.sent, handler.accepted) == (1, ["tenant@example.org"])
    assert nobody.failed_at is not None and nobody.attempts == 1
    assert nobody.last_error == f"{Undeliverable.__name__}: recipient refused: 550"
    assert full.failed_at is None and full.next_attempt_at > utcnow()
    assert tenant.sent_at is not None
    (report,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert f"outbox email {nobody.id} (password_changed) abandoned" in report.getMessage()
    assert await _counts(sessions) == OutboxCounts(pending=1, abandoned=1)


def test_the_portal_policy_follows_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "OUTBOX_CONCURRENCY": "2",
        "OUTBOX_RETRY_MAX_SECONDS": "1800",
        "OUTBOX_GIVE_UP_HOURS": "48",
        "OUTBOX_LEASE_SECONDS": "90",
    }.items():
        monkeypatch.setenv(name, value)

    policy = policy_from_settings(Settings.from_env())

    assert (policy.concurrency, policy.batch) == (2, 10)
    assert (policy.retry_cap, policy.give_up_after) == (timedelta(minutes=30), timedelta(hours=48))
    assert (policy.lease, policy.send_timeout) == (timedelta(seconds=90), timedelta(seconds=30))
    assert policy_from_settings(Settings()).give_up_after == timedelta(hours=24)
