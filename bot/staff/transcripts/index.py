"""The conversation index: ``ConversationSummary`` rows kept up to date from the tracker store.

Listing 10 000 conversations straight from ``events`` means grouping every event of every
conversation for each page; the index reads each event once instead::

    events (tracker store)            conversation_summaries (portal)
    id > last_event_id  ──digest──>   upsert by conversation: activity, turns, topics,
    (batches, oldest first)           fallback, handoff, flows started and completed,
                                      channel, tenant text (``digest.py``); client number
                                      of the conversation's latest verification grant

``refresh_index`` is cheap when nothing changed (one ``max(id)`` on the tracker store, one row
read in the portal); the list page calls it on each view, the daily jobs call it too.

Concurrency: two refreshes must not count the same events twice. The refresh takes a lock in
the portal database first (PostgreSQL: a transaction advisory lock; SQLite: the write lock, by
writing the state row as its first statement), then re-reads how far the index got.

Ids committed late: on PostgreSQL two Rasa servers may commit events 101 and 102 in the
opposite order. Ids skipped below the newest one read are remembered (``awaited``) and looked
for again on each refresh for ``AWAIT_SECONDS``; an id never seen by then was rolled back.

A tracker store emptied or replaced (its newest id below the index's) is indexed again from
the start; staff annotations stay, conversations no longer in the store are no longer listed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.portal.models import (
    ConversationGrant,
    ConversationSummary,
    Household,
    ReviewStatus,
    TranscriptIndexState,
    utcnow,
)
from bot.settings import Settings
from bot.staff.transcripts import tracker
from bot.staff.transcripts.digest import DERIVED_RESET, Digest, digest, merge_into
from bot.staff.transcripts.tracker import TrackerEvent, TrackerStore

log = logging.getLogger(__name__)

#: Events read from the tracker store per query.
BATCH = 2_000
#: How long an id skipped by a later commit is looked for (seconds).
AWAIT_SECONDS = 600
#: Skipped ids remembered at most (a larger hole is a rollback or a reset, not a late commit).
MAX_AWAITED = 1_000
_STATE_ID = 1
#: Key of the PostgreSQL advisory lock (any constant the portal uses for nothing else).
_LOCK_KEY = 0x7472_616E  # "tran"


async def _apply(session: AsyncSession, digests: dict[str, Digest]) -> None:
    """Upsert the summaries of these conversations (under the index lock)."""
    ids = list(digests)
    existing: dict[str, ConversationSummary] = {}
    verified: dict[str, str] = {}
    for chunk in tracker.chunks(ids):
        found = await session.scalars(
            select(ConversationSummary).where(ConversationSummary.conversation_id.in_(chunk))
        )
        existing.update((summary.conversation_id, summary) for summary in found)
        grants = await session.execute(
            select(ConversationGrant.conversation_id, Household.client_number)
            .join(Household, Household.id == ConversationGrant.household_id)
            .where(ConversationGrant.conversation_id.in_(chunk))
            .order_by(ConversationGrant.id)
        )
        verified.update(grants.all())  # the latest grant wins
    for conversation_id, new in digests.items():
        summary = existing.get(conversation_id)
        if summary is None:
            summary = ConversationSummary(
                conversation_id=conversation_id,
                events=0,
                turns=0,
                intents=" ",
                search_text="",
                had_fallback=False,
                had_handoff=False,
                review_status=ReviewStatus.PENDING,
            )
            session.add(summary)
        merge_into(summary, new)
        summary.client_number = verified.get(conversation_id, summary.client_number)
    await session.flush()


@dataclass(frozen=True)
class IndexRefresh:
    """What one refresh did: events read, conversations touched, whether it caught up."""

    events: int = 0
    conversations: int = 0
    caught_up: bool = True
    #: Events still to read when the refresh stopped at its budget.
    behind: int = 0


async def _lock(session: AsyncSession) -> None:
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(_LOCK_KEY)))
    else:  # a write as the transaction's first statement: SQLite's write lock, until commit
        await session.execute(
            update(TranscriptIndexState)
            .where(TranscriptIndexState.id == _STATE_ID)
            .values(last_event_id=TranscriptIndexState.last_event_id)
        )


async def _locked_state(session: AsyncSession) -> TranscriptIndexState:
    await _lock(session)
    state = await session.get(TranscriptIndexState, _STATE_ID, populate_existing=True)
    if state is None:
        state = TranscriptIndexState(id=_STATE_ID, last_event_id=0, awaited={})
        session.add(state)
    return state


async def _forget(session: AsyncSession, state: TranscriptIndexState) -> None:
    """The tracker store was emptied or replaced: index it again from its first event."""
    log.warning(
        "tracker store behind the conversation index (reset?): indexing it again from the start"
    )
    await session.execute(update(ConversationSummary).values(**DERIVED_RESET))
    state.last_event_id = 0
    state.awaited = {}


def _awaited_after(
    state: TranscriptIndexState, read: list[TrackerEvent], previous_last: int, now: float
) -> dict[str, float]:
    """Ids still awaited: the old ones not found nor expired, plus the holes of this read."""
    found = {event.id for event in read}
    awaited = {
        key: since
        for key, since in (state.awaited or {}).items()
        if int(key) not in found and now - since < AWAIT_SECONDS
    }
    newest = max((event.id for event in read if event.id > previous_last), default=previous_last)
    holes = set(range(previous_last + 1, newest + 1)) - found
    if len(holes) <= MAX_AWAITED:
        awaited.update((str(hole), now) for hole in holes)
    if len(awaited) > MAX_AWAITED:  # keep the most recent holes
        awaited = dict(sorted(awaited.items(), key=lambda item: int(item[0]))[-MAX_AWAITED:])
    return awaited


async def _read_round(
    session: AsyncSession, connection: AsyncConnection, state: TranscriptIndexState, limit: int
) -> tuple[list[TrackerEvent], int]:
    """One batch: awaited ids first, then new events; the state moves past them."""
    late = await tracker.events_by_id(connection, (int(key) for key in state.awaited or {}))
    new = await tracker.events_after(connection, state.last_event_id, limit=limit)
    previous_last = state.last_event_id
    read = late + new
    state.awaited = _awaited_after(state, read, previous_last, time.time())
    if new:
        state.last_event_id = new[-1].id
    if read:
        await _apply(session, digest(read))
    return read, len(new)


async def refresh_index(
    *, session: AsyncSession, store: TrackerStore, max_events: int | None = None
) -> IndexRefresh:
    """Index the events added since the last refresh, in the caller's transaction.

    Args:
        session: a portal session in a transaction (``sessions.begin()``), committed by the
            caller; nothing else should have been written in it before (SQLite's lock).
        store: the tracker store.
        max_events: stop after about this many events (a page view); None: catch up fully.

    Raises:
        TrackerUnavailable: the tracker store could not be read; nothing was changed.
    """
    async with store.connect() as connection:
        if connection is None:
            return IndexRefresh()
        newest = await tracker.newest_event_id(connection)
        known = await session.get(TranscriptIndexState, _STATE_ID)
        if known is not None and known.last_event_id == newest and not known.awaited:
            return IndexRefresh()
        state = await _locked_state(session)
        if newest < state.last_event_id:
            await _forget(session, state)
        read_events, touched = 0, set[str]()
        while max_events is None or read_events < max_events:
            limit = BATCH if max_events is None else min(BATCH, max_events - read_events)
            read, new = await _read_round(session, connection, state, limit)
            read_events += len(read)
            touched.update(event.sender_id for event in read)
            if new < limit:
                break
        state.refreshed_at = utcnow()
        behind = max(0, newest - state.last_event_id)
    return IndexRefresh(
        events=read_events, conversations=len(touched), caught_up=behind == 0, behind=behind
    )


async def index_conversations(*, session: AsyncSession, settings: Settings) -> int:
    """The daily job: catch the index up with the tracker store; conversations touched."""
    store = TrackerStore(settings.resolved_tracker_database_url)
    try:
        return (await refresh_index(session=session, store=store)).conversations
    finally:
        await store.close()


async def rewind_after_deletion(*, session: AsyncSession, store: TrackerStore) -> None:
    """Conversations were deleted from the tracker store (retention, erasure): if the newest
    events went with them, move the index back to the store's newest id.

    SQLite gives the next event the id after the highest one *left*, so without this the
    index would skip new events until their ids passed its old position; and a store whose
    newest id is below the index's looks emptied or replaced, which indexes it all again.
    """
    async with store.connect() as connection:
        newest = 0 if connection is None else await tracker.newest_event_id(connection)
    state = await _locked_state(session)
    if state.last_event_id > newest:
        state.last_event_id = newest
        state.awaited = {key: at for key, at in (state.awaited or {}).items() if int(key) < newest}


async def rebuild_summaries(
    *, session: AsyncSession, store: TrackerStore, conversation_ids: Iterable[str]
) -> int:
    """Digest these conversations again from what the tracker store still holds (their old
    events were deleted): counts, topics and searchable text no longer include them; staff
    annotations stay, and a reviewed conversation stays reviewed. Conversations with nothing
    left are not touched (delete them)."""
    wanted = list(dict.fromkeys(conversation_ids))
    rebuilt = 0
    async with store.connect() as connection:
        if connection is None:
            return 0
        for chunk in tracker.chunks(wanted):
            events = await tracker.events_of(connection, chunk)
            in_chunk = ConversationSummary.conversation_id.in_(chunk)
            reviews = dict(
                (
                    await session.execute(
                        select(ConversationSummary.id, ConversationSummary.review_status).where(
                            in_chunk
                        )
                    )
                ).all()
            )
            await session.execute(
                update(ConversationSummary)
                .where(in_chunk)
                .values(**DERIVED_RESET)
                .execution_options(synchronize_session=False)
            )
            session.expire_all()  # the next reads see the reset rows, not cached ones
            digests = digest(events)
            await _apply(session, digests)
            for summary in await session.scalars(select(ConversationSummary).where(in_chunk)):
                summary.review_status = reviews.get(summary.id, summary.review_status)
            rebuilt += len(digests)
        await session.flush()
    return rebuilt
