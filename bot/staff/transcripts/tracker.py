"""Read-only access to Rasa's tracker store: the ``events`` table of ``SQLTrackerStore``.

Rasa writes it (``bot.privacy.tracker_store.MaskingSQLTrackerStore``: texts already redacted);
the portal only reads it, with an engine of its own on ``Settings.resolved_tracker_database_url``
that cannot write: SQLite is opened with ``mode=ro``, PostgreSQL sessions are read-only.

One row per event, in the order Rasa saved them::

    events(id, sender_id, type_name, timestamp, intent_name, action_name, data)
                                                                        └ JSON of event.as_dict()

Before Rasa's first start there is no SQLite file and no table: reads then see no events.
A store that cannot be reached raises ``TrackerUnavailable`` (the console still lists what it
has indexed).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    case,
    func,
    select,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

log = logging.getLogger(__name__)

#: Rasa's ``SQLTrackerStore.SQLEvent`` table, as far as the portal reads it.
EVENTS = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)
#: Seconds to wait for the store before the page says it is unavailable.
CONNECT_TIMEOUT = 5


class TrackerUnavailable(Exception):
    """The tracker store could not be read (server down, wrong settings)."""


@dataclass(frozen=True)
class TrackerEvent:
    """One row of ``events``; ``data`` is the decoded JSON when it was read, else ``{}``."""

    id: int
    sender_id: str
    type_name: str
    timestamp: float | None
    intent_name: str | None
    action_name: str | None
    data: dict[str, Any]


def readonly_url(url: str) -> URL:
    """``url`` opened so that nothing can be written through it (SQLite: ``mode=ro``)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        if parsed.database.startswith("file:"):
            return parsed.update_query_dict({"uri": "true"})
        return parsed.set(
            database=f"file:{quote(parsed.database)}", query={"mode": "ro", "uri": "true"}
        )
    return parsed


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite store (``file:`` URIs too); None for a server or memory."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    path = parsed.database.removeprefix("file:")
    return None if path == ":memory:" else Path(path)


#: Ids per ``IN (...)`` list: far below every backend's limit on bound parameters.
IN_CHUNK = 500


def chunks(items: list[str]) -> Iterator[list[str]]:
    """``items`` in slices of ``IN_CHUNK``, one query each."""
    for start in range(0, len(items), IN_CHUNK):
        yield items[start : start + IN_CHUNK]


class TrackerStore:
    """The tracker store's ``events`` table through an async engine that only reads."""

    def __init__(self, url: str):
        self.url = readonly_url(url)
        self._sqlite_path = sqlite_file(url)
        self._engine: AsyncEngine | None = None

    @property
    def engine(self) -> AsyncEngine:
        """Created on first use: nothing connects before a page needs it."""
        if self._engine is None:
            if self.url.get_backend_name() == "sqlite":
                self._engine = create_async_engine(
                    self.url, future=True, connect_args={"timeout": CONNECT_TIMEOUT}
                )
            else:
                self._engine = create_async_engine(
                    self.url,
                    future=True,
                    pool_pre_ping=True,
                    connect_args={
                        "timeout": CONNECT_TIMEOUT,
                        "server_settings": {"default_transaction_read_only": "on"},
                    },
                )
        return self._engine

    def exists(self) -> bool:
        """False while Rasa has not created its SQLite file (then there is nothing to read)."""
        return self._sqlite_path is None or self._sqlite_path.is_file()

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[AsyncConnection | None]:
        """A connection, or None when the store does not exist yet."""
        if not self.exists():
            yield None
            return
        try:
            connection = await self.engine.connect()
        except _FAILURES as error:
            raise _unavailable(error) from error
        try:
            yield connection
        finally:
            await connection.close()

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None


_FAILURES = (OSError, asyncio.TimeoutError, SQLAlchemyError)


def _unavailable(error: BaseException) -> TrackerUnavailable:
    log.warning("tracker store unreadable: %s", type(error).__name__)
    return TrackerUnavailable(type(error).__name__)


async def _rows(connection: AsyncConnection, query: Any) -> list[Any]:
    try:
        return list(await connection.execute(query))
    except _FAILURES as error:
        raise _unavailable(error) from error


def _missing_table(error: DBAPIError) -> bool:
    message = str(error.orig).lower()
    return "no such table" in message or "does not exist" in message


async def newest_event_id(connection: AsyncConnection) -> int:
    """The highest event id, 0 when Rasa has not created its table yet."""
    try:
        return (await connection.scalar(select(func.max(EVENTS.c.id)))) or 0
    except DBAPIError as error:
        if not _missing_table(error):
            raise _unavailable(error) from error
        await connection.rollback()
        return 0
    except _FAILURES as error:
        raise _unavailable(error) from error


def _decoded(data: str | None) -> dict[str, Any]:
    if not data:
        return {}
    try:
        decoded = json.loads(data)
    except ValueError:
        return {}
    return decoded if isinstance(decoded, dict) else {}


def _events(rows: Iterable[Any]) -> list[TrackerEvent]:
    return [
        TrackerEvent(
            id=row.id,
            sender_id=row.sender_id,
            type_name=row.type_name,
            timestamp=row.timestamp,
            intent_name=row.intent_name,
            action_name=row.action_name,
            data=_decoded(row.data),
        )
        for row in rows
    ]


#: Events whose ``data`` the index reads: the tenant's messages (text, channel), the bot's
#: (``metadata.utter_action``: a flow's last response) and forms starting (``active_loop``).
INDEXED_DATA_TYPES = ("user", "bot", "active_loop")


def _index_columns() -> list[Any]:
    """Every column, but ``data`` only for the events the index digests (slots etc. are big)."""
    c = EVENTS.c
    data = case((c.type_name.in_(INDEXED_DATA_TYPES), c.data), else_=None).label("data")
    return [c.id, c.sender_id, c.type_name, c.timestamp, c.intent_name, c.action_name, data]


async def events_after(
    connection: AsyncConnection, after_id: int, *, limit: int
) -> list[TrackerEvent]:
    """Events with an id above ``after_id``, oldest first, for the index."""
    query = (
        select(*_index_columns()).where(EVENTS.c.id > after_id).order_by(EVENTS.c.id).limit(limit)
    )
    return _events(await _rows(connection, query))


async def events_by_id(connection: AsyncConnection, ids: Iterable[int]) -> list[TrackerEvent]:
    """These events, for the index, as far as they exist."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    query = select(*_index_columns()).where(EVENTS.c.id.in_(wanted)).order_by(EVENTS.c.id)
    return _events(await _rows(connection, query))


async def events_of(connection: AsyncConnection, sender_ids: Iterable[str]) -> list[TrackerEvent]:
    """Every event of these conversations, oldest first, for the index (rebuilding them)."""
    wanted = list(dict.fromkeys(sender_ids))
    if not wanted:
        return []
    query = select(*_index_columns()).where(EVENTS.c.sender_id.in_(wanted)).order_by(EVENTS.c.id)
    return _events(await _rows(connection, query))


#: The events a transcript shows; the others (slots, featurization...) stay in the store.
SHOWN_TYPES = ("user", "bot", "action", "session_started", "restart")


async def conversation_events(
    connection: AsyncConnection, sender_ids: Iterable[str], *, limit: int | None = None
) -> list[TrackerEvent]:
    """Shown events of these conversations, grouped by conversation, oldest first."""
    wanted = list(dict.fromkeys(sender_ids))
    if not wanted:
        return []
    query = (
        select(EVENTS)
        .where(EVENTS.c.sender_id.in_(wanted), EVENTS.c.type_name.in_(SHOWN_TYPES))
        .order_by(EVENTS.c.sender_id, EVENTS.c.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return _events(await _rows(connection, query))
