"""Emails are queued in the transaction that causes them, then delivered with retries.

A crash between the change and the delivery loses nothing: the row stays until the SMTP relay
accepts it. Several portal workers may share the outbox:

- **Claiming.** A delivery round claims the due rows in a short transaction
  (``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so that workers never wait for one
  another; SQLite, one process, ignores the clause) and marks them with its claim token and a
  lease (``claimed_by``, ``claimed_until``; ``outbox_claims``). Outcomes are recorded only
  under that token. A worker that dies after claiming leaves its rows to be retried once the
  lease has lapsed; an email whose lease would lapse before its send could end is released
  instead of sent, so two workers never send the same email.
- **Parallel sends.** A round sends up to ``OutboxPolicy.concurrency`` emails at once: a burst
  of verification codes does not queue behind one slow send. Emails to one address go one
  after the other, in the order they were queued: a tenant who asked twice for an activation
  link finds the newest (the only valid one) last in the inbox.
- **Retries.** A refused email is retried with exponential back-off capped at
  ``retry_cap``, until ``give_up_after`` (24 h by default) has passed since it was queued:
  an SMTP relay down for hours loses nothing. An email refused for good (``Undeliverable``:
  no such mailbox) is given up on at once. An email given up on is logged at error level
  (its id and template, never its address or body) and counted by ``outbox_counts``.

Nothing secret outlives the delivery: while an email waits, its body (codes, links with
one-time tokens) and attachments (a mandate with the IBAN) are encrypted (``OutboxEmail``);
once the relay accepts it, or it is given up on, both are emptied in the same commit that
records the outcome. Recipient, subject, template and dates stay, for audit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import sessionmaker

from bot.portal.models import OutboxAttachment, OutboxEmail, utcnow
from bot.portal.services.outbox_claims import claim_due, load_claimed, new_claim_token
from bot.portal.templating import render_email
from bot.settings import Settings

log = logging.getLogger(__name__)

SendFunction = Callable[[OutboxEmail], Awaitable[None]]
#: Where the outbox reads the time: tests inject a clock to live through an outage in no time.
Clock = Callable[[], datetime]

#: An email attachment: file name, MIME type ("application/pdf"), content.
Attachment = tuple[str, str, bytes]

#: Longest wait between two attempts, unless the policy says otherwise.
DEFAULT_RETRY_CAP = timedelta(minutes=15)


class Undeliverable(Exception):
    """The relay refused this email for good (no such mailbox): retrying for a day cannot help,
    so it is given up on at once, and reported like any other email given up on."""


@dataclass(frozen=True)
class OutboxPolicy:
    """How a worker delivers: how many at once, how long it holds its claim, when it gives up.

    ``send_timeout`` bounds one send so that it always ends before the lease lapses;
    ``max_attempts`` (``None``: no limit) is an extra bound for callers that want one.
    """

    concurrency: int = 4
    batch: int = 20
    lease: timedelta = timedelta(minutes=5)
    send_timeout: timedelta = timedelta(seconds=60)
    retry_cap: timedelta = DEFAULT_RETRY_CAP
    give_up_after: timedelta = timedelta(hours=24)
    max_attempts: int | None = None

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.batch < 1:
            raise ValueError("outbox concurrency and batch must be at least 1")
        if self.lease <= self.send_timeout:
            raise ValueError("the outbox lease must outlast one send (send_timeout)")


def policy_from_settings(settings: Settings) -> OutboxPolicy:
    """The portal's policy: each round claims a few sends' worth per slot, and a send may use a
    third of the lease at most (whatever the relay does, an outcome is recorded in time)."""
    lease = timedelta(seconds=settings.outbox_lease_seconds)
    return OutboxPolicy(
        concurrency=settings.outbox_concurrency,
        batch=settings.outbox_concurrency * 5,
        lease=lease,
        send_timeout=min(timedelta(seconds=60), lease / 3),
        retry_cap=timedelta(seconds=settings.outbox_retry_max_seconds),
        give_up_after=timedelta(hours=settings.outbox_give_up_hours),
    )


@dataclass(frozen=True)
class RoundResult:
    """What one delivery round did: a full batch claimed means more may be waiting."""

    claimed: int
    sent: int


@dataclass(frozen=True)
class OutboxCounts:
    """Emails still waiting to be delivered, and emails given up on (for the staff console)."""

    pending: int
    abandoned: int


@dataclass
class _Outcome:
    """The columns to write once a send has ended (or was not attempted)."""

    values: dict[str, Any] = field(default_factory=dict)
    sent: bool = False
    finished: bool = False
    attempted: bool = True


# --------------------------------------------------------------------------- queueing


async def enqueue_email(
    *,
    session: AsyncSession,
    to: str,
    template: str,
    attachments: Sequence[Attachment] = (),
    **context: object,
) -> OutboxEmail:
    """Queue an email in the caller's transaction: it goes out only if the change commits."""
    subject, body = render_email(template, **context)
    email = OutboxEmail(to_address=to, subject=subject, text_body=body, template=template)
    email.attachments = [
        OutboxAttachment(filename=filename, content_type=content_type, data=data)
        for filename, content_type, data in attachments
    ]
    session.add(email)
    await session.flush()
    return email


def retry_delay(attempts: int, cap: timedelta = DEFAULT_RETRY_CAP) -> timedelta:
    """5 s, 10 s, 20 s ... up to ``cap``: quick retries for a hiccup, a steady pace for an
    outage (a relay back after an hour sees its queue within ``cap``)."""
    seconds = 5 * 2 ** min(max(attempts - 1, 0), 30)
    return min(timedelta(seconds=seconds), cap)


# --------------------------------------------------------------------------- delivering


async def deliver_round(
    *,
    sessions: sessionmaker,
    send: SendFunction,
    policy: OutboxPolicy | None = None,
    worker: str | None = None,
    clock: Clock = utcnow,
) -> RoundResult:
    """Claim the due emails, send them ``policy.concurrency`` at a time (one address's emails in
    their queue order), record each outcome.

    A failure to record one outcome (database hiccup) is logged and leaves that email's claim
    to lapse: it is retried after the lease, never lost.
    """
    policy = policy or OutboxPolicy()
    token = new_claim_token(worker)
    ids = await claim_due(
        sessions=sessions, token=token, now=clock(), lease=policy.lease, limit=policy.batch
    )
    if not ids:
        return RoundResult(claimed=0, sent=0)
    slots = asyncio.Semaphore(policy.concurrency)

    async def deliver_in_order(emails: list[OutboxEmail]) -> int:
        sent = 0
        for email in emails:
            try:
                sent += await _deliver_one(
                    email,
                    sessions=sessions,
                    send=send,
                    policy=policy,
                    token=token,
                    clock=clock,
                    slots=slots,
                )
            except Exception:  # noqa: BLE001 - the claim lapses, the email is retried
                log.exception("outbox: recording the outcome of email %s failed", email.id)
        return sent

    by_recipient: dict[str, list[OutboxEmail]] = {}
    for email in await load_claimed(sessions, ids):
        by_recipient.setdefault(email.to_address.lower(), []).append(email)
    sent = await asyncio.gather(*(deliver_in_order(group) for group in by_recipient.values()))
    return RoundResult(claimed=len(ids), sent=sum(sent))


async def deliver_due(
    *,
    sessions: sessionmaker,
    send: SendFunction,
    max_attempts: int | None = None,
    batch: int = 20,
    clock: Clock = utcnow,
) -> int:
    """One round with the default policy; return how many emails the relay accepted."""
    policy = OutboxPolicy(batch=batch, max_attempts=max_attempts)
    result = await deliver_round(sessions=sessions, send=send, policy=policy, clock=clock)
    return result.sent


async def _deliver_one(
    email: OutboxEmail,
    *,
    sessions: sessionmaker,
    send: SendFunction,
    policy: OutboxPolicy,
    token: str,
    clock: Clock,
    slots: asyncio.Semaphore,
) -> bool:
    """Send one claimed email when a slot is free, and record what happened under the claim.

    An email that waited for a slot so long that its send could outlive the lease is released
    unsent: another worker may claim it once the lease lapses, and must not find it in flight.
    """
    async with slots:
        if clock() + policy.send_timeout > email.claimed_until:
            outcome = _Outcome(attempted=False)
        else:
            outcome = await _attempt(email, send=send, policy=policy, clock=clock)
        await _record(sessions, email, token=token, outcome=outcome)
    return outcome.sent


async def _attempt(
    email: OutboxEmail, *, send: SendFunction, policy: OutboxPolicy, clock: Clock
) -> _Outcome:
    """Hand the email to the relay within ``send_timeout``; any failure means retry later."""
    attempts = email.attempts + 1
    try:
        await asyncio.wait_for(send(email), policy.send_timeout.total_seconds())
    except Exception as error:  # noqa: BLE001 - any relay failure means "retry later"
        return _after_failure(email, attempts, error, now=clock(), policy=policy)
    return _Outcome(
        values={"attempts": attempts, "sent_at": clock(), "last_error": None},
        sent=True,
        finished=True,
    )


def _after_failure(
    email: OutboxEmail, attempts: int, error: Exception, *, now: datetime, policy: OutboxPolicy
) -> _Outcome:
    """Retry later, or give up once the horizon has passed: the last retry is scheduled at the
    horizon itself, so that the email gets its last chance before it is reported."""
    values: dict[str, Any] = {
        "attempts": attempts,
        "last_error": f"{type(error).__name__}: {error}"[:500],
    }
    horizon = email.created_at + policy.give_up_after
    out_of_attempts = policy.max_attempts is not None and attempts >= policy.max_attempts
    if now >= horizon or out_of_attempts or isinstance(error, Undeliverable):
        # The error text may name the recipient: only its type is logged.
        log.error(
            "outbox email %s (%s) abandoned after %s attempts over %s (last error: %s)",
            email.id,
            email.template,
            attempts,
            now - email.created_at,
            type(error).__name__,
        )
        return _Outcome(values={**values, "failed_at": now}, finished=True)
    values["next_attempt_at"] = min(now + retry_delay(attempts, policy.retry_cap), horizon)
    log.warning(
        "outbox email %s (%s) not delivered (attempt %s, %s)",
        email.id,
        email.template,
        attempts,
        type(error).__name__,
    )
    return _Outcome(values=values)


async def _record(
    sessions: sessionmaker, email: OutboxEmail, *, token: str, outcome: _Outcome
) -> None:
    """Write the outcome and drop the claim, only if this round still holds it; a finished
    email loses its body and attachments' bytes in the same commit."""
    values = {**outcome.values, "claimed_by": None, "claimed_until": None}
    if outcome.finished:
        values["text_body"] = ""
    async with sessions.begin() as session:
        result = await session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id == email.id, OutboxEmail.claimed_by == token)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount and outcome.finished:
            await session.execute(
                update(OutboxAttachment)
                .where(OutboxAttachment.email_id == email.id)
                .values(data=b"")
                .execution_options(synchronize_session=False)
            )
    if not result.rowcount and outcome.attempted:
        log.warning("outbox email %s: claim lost before its outcome was recorded", email.id)


# --------------------------------------------------------------------------- reporting


async def outbox_counts(session: AsyncSession) -> OutboxCounts:
    """How many emails wait for delivery and how many were given up on: for the staff
    console or metrics (an abandoned count that grows means a relay or address problem)."""
    pending = and_(OutboxEmail.sent_at.is_(None), OutboxEmail.failed_at.is_(None))
    row = (
        await session.execute(
            select(
                func.count(OutboxEmail.id).filter(pending),
                func.count(OutboxEmail.id).filter(OutboxEmail.failed_at.is_not(None)),
            )
        )
    ).one()
    return OutboxCounts(pending=row[0], abandoned=row[1])
