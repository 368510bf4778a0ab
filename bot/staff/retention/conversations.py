"""Forget conversations everywhere they are kept: Rasa's tracker store, then the portal.

In the portal a conversation id appears in the console's index (``ConversationSummary``, its
tags: the tenant's redacted texts), the verification records (challenges and grants), handoff
requests and an IBAN draft. The tracker store goes first, in a transaction of its own: if the
portal's part then fails, its rows still name the conversations and the next run finds them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.portal.models import (
    ConversationGrant,
    ConversationSummary,
    ConversationTag,
    DirectDebitDraft,
    HandoffRequest,
    VerificationChallenge,
)
from bot.settings import Settings
from bot.staff.retention import tracker_writes
from bot.staff.transcripts.index import rewind_after_deletion
from bot.staff.transcripts.tracker import TrackerStore, chunks


@dataclass(frozen=True)
class Forgotten:
    """What was deleted: conversations (in either store) and tracker events."""

    conversations: int
    events: int


async def delete_from_tracker(settings: Settings, conversation_ids: Iterable[str]) -> int:
    """Delete these conversations' events from the tracker store; events deleted."""
    wanted = list(dict.fromkeys(conversation_ids))
    if not wanted:
        return 0
    async with tracker_writes.writable(settings.resolved_tracker_database_url) as connection:
        if connection is None:
            return 0
        return await tracker_writes.delete_conversations(connection, wanted)


async def delete_from_portal(session: AsyncSession, conversation_ids: Iterable[str]) -> int:
    """Delete the portal's rows about these conversations; index rows deleted."""
    wanted = list(dict.fromkeys(conversation_ids))
    summaries = 0
    for chunk in chunks(wanted):
        summary_ids = select(ConversationSummary.id).where(
            ConversationSummary.conversation_id.in_(chunk)
        )
        await session.execute(
            delete(ConversationTag)
            .where(ConversationTag.summary_id.in_(summary_ids))
            .execution_options(synchronize_session=False)
        )
        result = await session.execute(
            delete(ConversationSummary).where(ConversationSummary.conversation_id.in_(chunk))
        )
        summaries += result.rowcount or 0
        for model in (ConversationGrant, VerificationChallenge, HandoffRequest, DirectDebitDraft):
            await session.execute(delete(model).where(model.conversation_id.in_(chunk)))
    return summaries


async def forget_conversations(
    *, session: AsyncSession, settings: Settings, conversation_ids: Iterable[str]
) -> Forgotten:
    """Delete these conversations from the tracker store, then from the portal (in ``session``,
    committed by the caller), and keep the console's index in step with the store."""
    wanted = list(dict.fromkeys(conversation_ids))
    if not wanted:
        return Forgotten(conversations=0, events=0)
    events = await delete_from_tracker(settings, wanted)
    store = TrackerStore(settings.resolved_tracker_database_url)
    try:
        await rewind_after_deletion(session=session, store=store)
    finally:
        await store.close()
    await delete_from_portal(session, wanted)
    return Forgotten(conversations=len(wanted), events=events)
