"""The retention period of conversations: a daily job deletes what is older.

``TRANSCRIPT_RETENTION_DAYS`` (180 by default) after a message, it is deleted from Rasa's
tracker store; a conversation left with no message is deleted from the portal too (index row,
tags, verification records, handoff requests), one that still has recent messages is digested
again so that the console's search no longer finds the deleted text. Verification records and
closed handoff requests older than the period go as well, whichever conversation they named.

Idempotent: a second run the same day finds nothing older than the cut-off.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.portal.models import (
    ConversationGrant,
    ConversationSummary,
    HandoffRequest,
    VerificationChallenge,
)
from bot.settings import Settings
from bot.staff.retention import tracker_writes
from bot.staff.retention.conversations import delete_from_portal
from bot.staff.transcripts.index import rebuild_summaries, rewind_after_deletion
from bot.staff.transcripts.tracker import TrackerStore


def cutoff(settings: Settings, now: datetime) -> datetime:
    """Messages before this instant are past the retention period."""
    return now - timedelta(days=settings.transcript_retention_days)


async def _trim_tracker(settings: Settings, before: float) -> tracker_writes.Trimmed:
    async with tracker_writes.writable(settings.resolved_tracker_database_url) as connection:
        if connection is None:
            return tracker_writes.Trimmed(events=0, emptied=[], shortened=[])
        return await tracker_writes.delete_before(connection, before)


async def purge_expired_transcripts(
    *, session: AsyncSession, settings: Settings, now: datetime
) -> int:
    """Delete what is past the retention period; conversations deleted or shortened."""
    limit = cutoff(settings, now)
    before = limit.timestamp()
    trimmed = await _trim_tracker(settings, before)
    store = TrackerStore(settings.resolved_tracker_database_url)
    try:
        await rewind_after_deletion(session=session, store=store)  # first: the index lock
        # Index rows of conversations already gone from the store (a run that failed after
        # the store's part, a store replaced) are found by their own last activity.
        stale = await session.scalars(
            select(ConversationSummary.conversation_id).where(ConversationSummary.last_at < before)
        )
        emptied = sorted(set(trimmed.emptied) | set(stale))
        await delete_from_portal(session, emptied)
        await rebuild_summaries(session=session, store=store, conversation_ids=trimmed.shortened)
    finally:
        await store.close()
    for model in (ConversationGrant, VerificationChallenge):
        await session.execute(delete(model).where(model.created_at < limit))
    await session.execute(delete(HandoffRequest).where(HandoffRequest.closed_at < limit))
    return len(emptied) + len(trimmed.shortened)
