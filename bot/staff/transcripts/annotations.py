"""What staff add to a conversation: tags, a note, the review. Portal tables only; the web
handlers audit each change in the same transaction."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import InvalidInput
from bot.portal.models import ConversationSummary, ConversationTag, ReviewStatus, utcnow
from bot.staff.transcripts.queries import normalise_tag

NOTE_MAX_LENGTH = 4_000
#: Tags one conversation may carry.
MAX_TAGS = 20


async def add_tag(
    *, session: AsyncSession, summary: ConversationSummary, tag: str, staff_id: int
) -> str | None:
    """Tag the conversation; the normalised tag, or None if it already had it."""
    tag = normalise_tag(tag)
    tags = set(
        await session.scalars(
            select(ConversationTag.tag).where(ConversationTag.summary_id == summary.id)
        )
    )
    if tag in tags:
        return None
    if len(tags) >= MAX_TAGS:
        raise InvalidInput(code="too_many_tags", field="etiquette", maximum=MAX_TAGS)
    session.add(ConversationTag(summary_id=summary.id, tag=tag, added_by_id=staff_id))
    await session.flush()
    return tag


async def remove_tag(*, session: AsyncSession, summary: ConversationSummary, tag: str) -> bool:
    """Remove a tag; False if the conversation did not have it."""
    result = await session.execute(
        delete(ConversationTag).where(
            ConversationTag.summary_id == summary.id, ConversationTag.tag == normalise_tag(tag)
        )
    )
    return bool(result.rowcount)


async def set_note(
    *, session: AsyncSession, summary: ConversationSummary, note: str, staff_id: int
) -> None:
    """Replace the note (empty: no note)."""
    note = note.strip().replace("\r\n", "\n")
    if len(note) > NOTE_MAX_LENGTH:
        raise InvalidInput(code="too_long", variant="note", field="note", maximum=NOTE_MAX_LENGTH)
    summary.note = note or None
    summary.note_by_id = staff_id
    summary.note_at = utcnow()
    await session.flush()


async def set_review(
    *, session: AsyncSession, summary: ConversationSummary, status: ReviewStatus, staff_id: int
) -> None:
    """Mark reviewed (by whom, when) or to review again (the last review stays on record)."""
    summary.review_status = status
    if status == ReviewStatus.REVIEWED:
        summary.reviewed_by_id = staff_id
        summary.reviewed_at = utcnow()
    await session.flush()
