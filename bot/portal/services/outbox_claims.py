"""Which worker sends which outbox email: rows claimed for one delivery round at a time.

A round claims the due rows in a short transaction (``SELECT ... FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so that portal workers never wait for one another; SQLite, one process, ignores the
clause) and marks them with its claim token and a lease (``claimed_by``, ``claimed_until``).
``outbox.py`` records each outcome only under that token; a claim whose worker died lapses
with its lease.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import selectinload, sessionmaker
from sqlalchemy.sql.expression import ColumnElement

from bot.portal.models import OutboxEmail


def worker_name() -> str:
    """This process, as written in ``claimed_by``: whoever reads the table sees who sends."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}"


def new_claim_token(worker: str | None = None) -> str:
    """A token unique to one round: outcomes are recorded only by the round holding the claim."""
    return f"{(worker or worker_name())[:50]}/{secrets.token_hex(6)}"


def _claimable(now: datetime) -> ColumnElement:
    """Due, neither sent nor given up on, and claimed by nobody (or by a lapsed lease)."""
    return and_(
        OutboxEmail.sent_at.is_(None),
        OutboxEmail.failed_at.is_(None),
        OutboxEmail.next_attempt_at <= now,
        or_(OutboxEmail.claimed_until.is_(None), OutboxEmail.claimed_until <= now),
    )


async def claim_due(
    *, sessions: sessionmaker, token: str, now: datetime, lease: timedelta, limit: int
) -> list[int]:
    """Claim up to ``limit`` due emails for ``token`` until ``now + lease``; return their ids.

    The transaction is short: rows locked by another worker's claim are skipped, not waited
    for (PostgreSQL). The update checks again that each row is claimable, and only the rows
    that carry the token afterwards are returned, so two claims never share a row even where
    the select does not lock (SQLite).
    """
    async with sessions.begin() as session:
        ids = (
            await session.scalars(
                select(OutboxEmail.id)
                .where(_claimable(now))
                .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if not ids:
            return []
        await session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id.in_(ids), _claimable(now))
            .values(claimed_by=token, claimed_until=now + lease)
            .execution_options(synchronize_session=False)
        )
        claimed = await session.scalars(
            select(OutboxEmail.id)
            .where(OutboxEmail.id.in_(ids), OutboxEmail.claimed_by == token)
            .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
        )
        return list(claimed.all())


async def load_claimed(sessions: sessionmaker, ids: Sequence[int]) -> list[OutboxEmail]:
    """The claimed emails with their attachments (async sessions cannot lazy-load them)."""
    async with sessions() as session:
        emails = await session.scalars(
            select(OutboxEmail)
            .where(OutboxEmail.id.in_(ids))
            .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
            .options(selectinload(OutboxEmail.attachments))
        )
        return list(emails.all())
