"""Finding conversations in the index, and reading one of them from the tracker store.

Filters come from the list page's query string (French names, as the form sends them)::

    du, au        dates (AAAA-MM-JJ, Europe/Paris): conversations active within the range
    canal         input channel (socketio, telegram, sms, rest)
    client        verified household (8-digit client number);  verifiee  oui | non
    sujet         an intent of the tenant's messages (register, pay_rent...)
    incompris     oui | non: a fallback happened;    conseiller  oui | non: a handoff
    revue         a_revoir | revue;                  etiquette   a staff tag
    q             words the tenant wrote (all of them; case and accents ignored)

Pages are keyset-paginated on ``last_event_id`` (most recent activity first): ``apres=<id>``
gives the page after, ``avant=<id>`` the page before, each an index seek however deep.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import defer
from sqlalchemy.sql import ColumnElement, Select

from bot.errors import InvalidInput
from bot.policy.french_dates import FRANCE, parse_french_date
from bot.policy.landlord import CLIENT_NUMBER_LENGTH
from bot.portal.models import ConversationSummary, ConversationTag, ReviewStatus
from bot.staff.transcripts import tracker
from bot.staff.transcripts.digest import fold
from bot.staff.transcripts.tracker import TrackerEvent
from bot.web.inputs import row_id

PAGE_SIZE = 50
MAX_SEARCH_WORDS = 8
TAG_MAX_LENGTH = 40
#: Events of one conversation shown at most (a transcript longer than this is cut, with a note).
TRANSCRIPT_LIMIT = 5_000

REVIEW_VALUES = {"a_revoir": ReviewStatus.PENDING, "revue": ReviewStatus.REVIEWED}
YES_NO = {"oui": True, "non": False}
_TAG = re.compile(r"^[\w-]{1,40}$")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_CLIENT_NUMBER = re.compile(rf"^\d{{{CLIENT_NUMBER_LENGTH}}}$")
_LIKE_SPECIALS = re.compile(r"([\\%_])")
#: Actions left out of a transcript, besides responses (``utter_*``, shown as the bot's
#: messages); a session start shows as its ``session_started`` event.
_HIDDEN_ACTIONS = ("action_listen", "action_session_start")


def normalise_tag(text: str) -> str:
    """A tag as staff type it, in its stored form: lower case, words joined by dashes."""
    tag = "-".join(text.strip().lower().split())
    if not _TAG.match(tag):
        raise InvalidInput(code="invalid_tag", field="etiquette")
    return tag


def _one(args: Mapping[str, Any], name: str) -> str:
    """The value of ``name``: ``args`` may map names to strings, or to lists of them (a query
    string parsed as by ``parse_qs``); Sanic's ``request.args.get`` already gives the first."""
    found = args.get(name) or ""
    value = (found if isinstance(found, str) else (found[0] if found else "")).strip()
    if len(value) > 200:
        raise InvalidInput(code="too_long", variant="filter", field=name)
    return value


def _yes_no(args: Mapping[str, Any], name: str) -> bool | None:
    value = _one(args, name)
    if value and value not in YES_NO:
        raise InvalidInput(code="invalid_filter", variant="yes_no", field=name)
    return YES_NO.get(value)


def _day(args: Mapping[str, Any], name: str) -> date | None:
    value = _one(args, name)
    if not value:
        return None
    try:  # what a date field sends (ISO), or what staff type without one (31/12/2025...)
        return parse_french_date(value)
    except InvalidInput:
        raise InvalidInput(code="invalid_date", variant="filter", field=name) from None


def _name(args: Mapping[str, Any], name: str) -> str:
    value = _one(args, name)
    if value and not _NAME.match(value):
        raise InvalidInput(code="invalid_filter", field=name)
    return value


def _epoch(day: date) -> float:
    return datetime.combine(day, time(), FRANCE).timestamp()


def _like(word: str) -> str:
    return "%" + _LIKE_SPECIALS.sub(r"\\\1", word) + "%"


@dataclass(frozen=True)
class ConversationFilters:
    start: date | None = None
    end: date | None = None
    channel: str = ""
    client_number: str = ""
    verified: bool | None = None
    topic: str = ""
    fallback: bool | None = None
    handoff: bool | None = None
    review: ReviewStatus | None = None
    tag: str = ""
    text: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> ConversationFilters:
        """Filters from a query string; ``InvalidInput`` (with its code) for a bad value."""
        start, end = _day(args, "du"), _day(args, "au")
        if start and end and start > end:
            raise InvalidInput(code="invalid_range", field="au")
        client_number = _one(args, "client").replace(" ", "")
        if client_number and not _CLIENT_NUMBER.match(client_number):
            raise InvalidInput(
                code="invalid_filter",
                variant="client_number",
                field="client",
                length=CLIENT_NUMBER_LENGTH,
            )
        review = _one(args, "revue")
        if review and review not in REVIEW_VALUES:
            raise InvalidInput(code="invalid_filter", variant="review", field="revue")
        tag = _one(args, "etiquette")
        return cls(
            start=start,
            end=end,
            channel=_name(args, "canal"),
            client_number=client_number,
            verified=_yes_no(args, "verifiee"),
            topic=_name(args, "sujet"),
            fallback=_yes_no(args, "incompris"),
            handoff=_yes_no(args, "conseiller"),
            review=REVIEW_VALUES.get(review),
            tag=normalise_tag(tag) if tag else "",
            text=" ".join(_one(args, "q").split()),
        )

    def as_query(self) -> dict[str, str]:
        """The query string naming these filters (for links: pages, exports)."""
        names = {value: key for key, value in REVIEW_VALUES.items()}
        flags = {True: "oui", False: "non", None: ""}
        query = {
            "du": self.start.isoformat() if self.start else "",
            "au": self.end.isoformat() if self.end else "",
            "canal": self.channel,
            "client": self.client_number,
            "verifiee": flags[self.verified],
            "sujet": self.topic,
            "incompris": flags[self.fallback],
            "conseiller": flags[self.handoff],
            "revue": names.get(self.review, "") if self.review else "",
            "etiquette": self.tag,
            "q": self.text,
        }
        return {key: value for key, value in query.items() if value}

    @property
    def active(self) -> bool:
        return any(getattr(self, f.name) not in (None, "") for f in fields(self))

    def conditions(self) -> list[ColumnElement[Any]]:
        s = ConversationSummary
        where: list[ColumnElement[Any]] = [s.events > 0]
        if self.start:
            where.append(s.last_at >= _epoch(self.start))
        if self.end:
            where.append(s.first_at < _epoch(self.end + timedelta(days=1)))
        if self.channel:
            where.append(s.channel == self.channel)
        if self.client_number:
            where.append(s.client_number == self.client_number)
        if self.verified is not None:
            where.append(
                s.client_number.isnot(None) if self.verified else s.client_number.is_(None)
            )
        if self.topic:
            where.append(s.intents.like(f"% {self.topic} %"))
        if self.fallback is not None:
            where.append(s.had_fallback == self.fallback)
        if self.handoff is not None:
            where.append(s.had_handoff == self.handoff)
        if self.review is not None:
            where.append(s.review_status == self.review)
        if self.tag:
            tagged = select(ConversationTag.summary_id).where(ConversationTag.tag == self.tag)
            where.append(s.id.in_(tagged))
        for word in fold(self.text).split()[:MAX_SEARCH_WORDS]:
            where.append(s.search_text.like(_like(word), escape="\\"))
        return where

    def select(self) -> Select:
        """The matching summaries (without their search text, which pages never show)."""
        return (
            select(ConversationSummary)
            .where(*self.conditions())
            .options(defer(ConversationSummary.search_text))
        )

    def count(self) -> Select:
        return select(func.count()).select_from(ConversationSummary).where(*self.conditions())


def parse_cursor(args: Mapping[str, Any], name: str) -> int | None:
    value = _one(args, name)
    if not value:
        return None
    try:
        return row_id(value)  # past the id column's range, PostgreSQL would answer an error
    except ValueError:
        raise InvalidInput(code="invalid_cursor", field=name) from None


@dataclass(frozen=True)
class Page:
    summaries: list[ConversationSummary]
    tags: dict[int, list[str]]
    #: Cursor of the page before (``avant=``) and after (``apres=``), None at either end.
    newer: int | None
    older: int | None
    total: int


async def tags_of(session: AsyncSession, summary_ids: Sequence[int]) -> dict[int, list[str]]:
    tags: dict[int, list[str]] = {summary_id: [] for summary_id in summary_ids}
    if summary_ids:
        rows = await session.execute(
            select(ConversationTag.summary_id, ConversationTag.tag)
            .where(ConversationTag.summary_id.in_(list(summary_ids)))
            .order_by(ConversationTag.tag)
        )
        for summary_id, tag in rows:
            tags[summary_id].append(tag)
    return tags


async def list_page(
    *,
    session: AsyncSession,
    filters: ConversationFilters,
    after: int | None = None,
    before: int | None = None,
    size: int = PAGE_SIZE,
    count: bool = True,
) -> Page:
    """One page of conversations, most recent activity first."""
    key = ConversationSummary.last_event_id
    query = filters.select()
    if before is not None and after is None:
        rows = list(await session.scalars(query.where(key > before).order_by(key).limit(size + 1)))
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        newer = rows[0].last_event_id if more_newer and rows else None
        older_exists = bool(rows)
    else:
        if after is not None:
            query = query.where(key < after)
        rows = list(await session.scalars(query.order_by(key.desc()).limit(size + 1)))
        older_exists = len(rows) > size
        rows = rows[:size]
        newer = rows[0].last_event_id if after is not None and rows else None
    older = rows[-1].last_event_id if rows and older_exists else None
    total = 0
    if count:
        total = await session.scalar(filters.count()) or 0
    return Page(
        summaries=rows,
        tags=await tags_of(session, [row.id for row in rows]),
        newer=newer,
        older=older,
        total=total,
    )


async def find_summary(
    *, session: AsyncSession, conversation_id: str
) -> ConversationSummary | None:
    return await session.scalar(
        select(ConversationSummary).where(ConversationSummary.conversation_id == conversation_id)
    )


# --------------------------------------------------------------------------- transcripts


@dataclass(frozen=True)
class TranscriptItem:
    """One line of a transcript: ``kind`` is tenant, bot, action or session."""

    kind: str
    event_id: int
    at: float | None
    text: str = ""
    intent: str = ""
    confidence: float | None = None
    action: str = ""
    buttons: tuple[str, ...] = ()
    #: Something a text does not show (an image, a file, a custom payload).
    attachment: bool = False


def _tenant(event: TrackerEvent) -> TranscriptItem:
    data = event.data
    intent = (data.get("parse_data") or {}).get("intent") or {}
    confidence = intent.get("confidence")
    return TranscriptItem(
        kind="tenant",
        event_id=event.id,
        at=event.timestamp,
        text=str(data.get("text") or ""),
        intent=str(intent.get("name") or event.intent_name or ""),
        confidence=float(confidence) if isinstance(confidence, (int, float)) else None,
    )


def _bot(event: TrackerEvent) -> TranscriptItem:
    data = event.data
    extra = data.get("data") or {}
    buttons = tuple(
        str(button.get("title", ""))
        for button in extra.get("buttons") or []
        if isinstance(button, dict)
    )
    return TranscriptItem(
        kind="bot",
        event_id=event.id,
        at=event.timestamp,
        text=str(data.get("text") or ""),
        action=str((data.get("metadata") or {}).get("utter_action") or ""),
        buttons=buttons,
        attachment=any(extra.get(key) for key in ("image", "attachment", "custom")),
    )


def transcript_item(event: TrackerEvent) -> TranscriptItem | None:
    """How an event reads in the transcript; None for the ones left out."""
    if event.type_name == "user":
        return _tenant(event)
    if event.type_name == "bot":
        return _bot(event)
    if event.type_name in ("session_started", "restart"):
        return TranscriptItem(
            kind="session", event_id=event.id, at=event.timestamp, action=event.type_name
        )
    name = event.action_name or ""
    if (
        event.type_name == "action"
        and name not in _HIDDEN_ACTIONS
        and not name.startswith("utter_")
    ):
        return TranscriptItem(kind="action", event_id=event.id, at=event.timestamp, action=name)
    return None


@dataclass(frozen=True)
class Transcript:
    items: list[TranscriptItem]
    #: More events than ``TRANSCRIPT_LIMIT``: only the first ones are shown.
    truncated: bool


async def read_transcript(
    *, connection: AsyncConnection | None, conversation_id: str, limit: int = TRANSCRIPT_LIMIT
) -> Transcript:
    """The conversation as staff read it, from the tracker store (redacted texts)."""
    if connection is None:
        return Transcript(items=[], truncated=False)
    events = await tracker.conversation_events(connection, [conversation_id], limit=limit + 1)
    items = [item for event in events[:limit] if (item := transcript_item(event))]
    return Transcript(items=items, truncated=len(events) > limit)
