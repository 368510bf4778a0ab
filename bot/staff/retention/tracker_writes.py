"""Deleting conversations from Rasa's tracker store (``events`` of ``SQLTrackerStore``).

The rest of the console reads the store through ``transcripts.tracker.TrackerStore``, which
cannot write; retention and erasure need to, so they open their own short-lived engine here,
on the same URL, and close it when done.

Rasa keeps no copy of a conversation outside this table (it loads the tracker from it on each
message), so deleting a conversation's rows deletes the conversation. Only conversations idle
for longer than the retention period, or erased on purpose, are deleted: a tenant typing at
that moment would start a new conversation, as after any session expiry.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import delete, func, inspect, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from bot.staff.transcripts.tracker import (
    CONNECT_TIMEOUT,
    EVENTS,
    TrackerUnavailable,
    chunks,
    sqlite_file,
)

log = logging.getLogger(__name__)


@asynccontextmanager
async def writable(url: str) -> AsyncIterator[AsyncConnection | None]:
    """A connection in a transaction (committed on success), or None: Rasa has not created
    its store yet, so there is nothing to delete."""
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        yield None
        return
    engine = create_async_engine(url, future=True, connect_args={"timeout": CONNECT_TIMEOUT})
    try:
        try:
            connection = await engine.connect()
        except (OSError, TimeoutError, DBAPIError) as error:
            raise TrackerUnavailable(type(error).__name__) from error
        try:
            if not await connection.run_sync(lambda sync: inspect(sync).has_table("events")):
                yield None
                return
            await connection.commit()  # end the inspection's transaction, then ours
            async with connection.begin():
                try:
                    yield connection
                except DBAPIError as error:  # refused (read-only role, locked file...): undone
                    log.warning("tracker store refused a deletion: %s", type(error).__name__)
                    raise TrackerUnavailable(type(error).__name__) from error
        finally:
            await connection.close()
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class Trimmed:
    """Events older than the cut-off deleted: conversations left empty, and the others."""

    events: int
    emptied: list[str]
    shortened: list[str]


async def delete_before(connection: AsyncConnection, before: float) -> Trimmed:
    """Delete every event older than ``before`` (epoch seconds).

    A conversation id can live for months (a Telegram chat, a phone number): its old messages
    go, its recent ones stay. Rasa only loads the events of the current session (a session
    ends after an hour of silence), so what is left still makes a sound conversation.
    """
    old = EVENTS.c.timestamp < before
    touched = select(EVENTS.c.sender_id).where(old).distinct()
    emptied = set(
        await connection.scalars(
            select(EVENTS.c.sender_id)
            .where(EVENTS.c.sender_id.in_(touched))
            .group_by(EVENTS.c.sender_id)
            .having(func.max(EVENTS.c.timestamp) < before)
        )
    )
    shortened = sorted(set(await connection.scalars(touched)) - emptied)
    result = await connection.execute(delete(EVENTS).where(old))
    return Trimmed(events=result.rowcount or 0, emptied=sorted(emptied), shortened=shortened)


async def delete_conversations(connection: AsyncConnection, sender_ids: Iterable[str]) -> int:
    """Delete every event of these conversations; the number of events deleted."""
    deleted = 0
    for chunk in chunks(list(dict.fromkeys(sender_ids))):
        result = await connection.execute(delete(EVENTS).where(EVENTS.c.sender_id.in_(chunk)))
        deleted += result.rowcount or 0
    return deleted
