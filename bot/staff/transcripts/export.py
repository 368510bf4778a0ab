"""Exports of transcripts as CSV or JSON, produced piece by piece (streamed to the browser).

Only what the transcript page shows leaves: the redacted texts of the tenant and the bot, the
intents and their confidence, the names of the actions, and the index's facts (channel,
verified client number, topics, tags, review status). Slot values, metadata and staff notes
stay out.

CSV is what a French spreadsheet opens as is: UTF-8 with a byte-order mark, ``;`` between
fields; a cell that would start a formula (``=``, ``+``, ``-``, ``@``) gets a leading ``'``.
JSON is one object ``{"conversations": [...]}``, one conversation at a time.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import sessionmaker

from bot.policy.french_dates import FRANCE
from bot.portal.models import ConversationSummary
from bot.staff.transcripts import tracker
from bot.staff.transcripts.queries import (
    ConversationFilters,
    TranscriptItem,
    tags_of,
    transcript_item,
)
from bot.staff.transcripts.tracker import TrackerStore

#: Conversations read per round (one portal query, one tracker query).
BATCH = 100
CSV_HEADER = (
    "conversation",
    "canal",
    "client",
    "evenement",
    "date",
    "auteur",
    "texte",
    "intention",
    "confiance",
    "action",
)
SPEAKERS = {"tenant": "locataire", "bot": "assistant", "action": "action", "session": "session"}
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportedConversation:
    summary: ConversationSummary
    tags: list[str]
    items: list[TranscriptItem]


def iso(timestamp: float | None) -> str:
    if timestamp is None:
        return ""
    return datetime.fromtimestamp(timestamp, FRANCE).isoformat(timespec="seconds")


async def _batches(
    sessions: sessionmaker, filters: ConversationFilters, conversation_id: str | None
) -> AsyncIterator[tuple[list[ConversationSummary], dict[int, list[str]]]]:
    """Summaries matching the filters, most recent first, ``BATCH`` at a time (keyset)."""
    key = ConversationSummary.last_event_id
    cursor: int | None = None
    while True:
        query = filters.select().order_by(key.desc()).limit(BATCH)
        if conversation_id is not None:
            query = query.where(ConversationSummary.conversation_id == conversation_id)
        if cursor is not None:
            query = query.where(key < cursor)
        async with sessions() as session:
            summaries = list(await session.scalars(query))
            tags = await tags_of(session, [summary.id for summary in summaries])
        if not summaries:
            return
        yield summaries, tags
        if len(summaries) < BATCH:
            return
        cursor = summaries[-1].last_event_id


async def conversations(
    *,
    sessions: sessionmaker,
    store: TrackerStore,
    filters: ConversationFilters,
    conversation_id: str | None = None,
) -> AsyncIterator[ExportedConversation]:
    """The matching conversations with their transcripts.

    Raises:
        TrackerUnavailable: the tracker store could not be read.
    """
    async for summaries, tags in _batches(sessions, filters, conversation_id):
        events: dict[str, list[TranscriptItem]] = {s.conversation_id: [] for s in summaries}
        async with store.connect() as connection:
            if connection is not None:
                for event in await tracker.conversation_events(connection, list(events)):
                    item = transcript_item(event)
                    if item is not None:
                        events[event.sender_id].append(item)
        for summary in summaries:
            yield ExportedConversation(summary, tags[summary.id], events[summary.conversation_id])


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _csv_line(writer: Any, buffer: io.StringIO, row: tuple[Any, ...]) -> str:
    writer.writerow([_cell(value) for value in row])
    line = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return line


async def csv_chunks(exported: AsyncIterator[ExportedConversation]) -> AsyncIterator[str]:
    """The CSV file, one conversation per chunk (after the header)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    yield "\ufeff" + _csv_line(writer, buffer, CSV_HEADER)
    async for conversation in exported:
        summary = conversation.summary
        lines = [
            _csv_line(
                writer,
                buffer,
                (
                    summary.conversation_id,
                    summary.channel or "",
                    summary.client_number or "",
                    item.event_id,
                    iso(item.at),
                    SPEAKERS[item.kind],
                    item.text,
                    item.intent,
                    "" if item.confidence is None else f"{item.confidence:.4f}",
                    item.action,
                ),
            )
            for item in conversation.items
        ]
        if lines:
            yield "".join(lines)


def as_json(conversation: ExportedConversation) -> dict[str, Any]:
    summary = conversation.summary
    return {
        "conversation_id": summary.conversation_id,
        "channel": summary.channel,
        "client_number": summary.client_number,
        "first_at": iso(summary.first_at),
        "last_at": iso(summary.last_at),
        "turns": summary.turns,
        "intents": summary.intents.split(),
        "had_fallback": summary.had_fallback,
        "had_handoff": summary.had_handoff,
        "review_status": summary.review_status.value,
        "tags": conversation.tags,
        "events": [
            {
                key: value
                for key, value in {
                    "id": item.event_id,
                    "at": iso(item.at),
                    "from": SPEAKERS[item.kind],
                    "text": item.text if item.kind in ("tenant", "bot") else None,
                    "intent": item.intent or None,
                    "confidence": item.confidence,
                    "action": item.action or None,
                    "buttons": list(item.buttons) or None,
                }.items()
                if value is not None
            }
            for item in conversation.items
        ],
    }


async def json_chunks(exported: AsyncIterator[ExportedConversation]) -> AsyncIterator[str]:
    """``{"conversations": [...]}``, one conversation per chunk."""
    separator = ""
    yield '{"conversations": ['
    async for conversation in exported:
        yield separator + json.dumps(as_json(conversation), ensure_ascii=False)
        separator = ",\n"
    yield "]}\n"
