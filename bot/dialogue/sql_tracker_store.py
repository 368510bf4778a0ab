"""Rasa's SQL tracker store with the per-turn overhead taken out, same rows, same trackers.

Rasa reads the conversation (``retrieve``) at the start of every message and writes its new
events (``save``) at the end. ``SQLTrackerStore`` (Rasa 3.6) pays, at each of the two:

- **a new SQLite connection** (SQLAlchemy 1.4 gives file databases a ``NullPool``) and, on
  each commit, the rollback journal's file syncs. Here a SQLite store keeps its connections in
  a pool and its file in write-ahead-log mode (``journal_mode=WAL``, the setting is stored in
  the file; SQLite keeps its default synchronous level, so a commit is as durable as before).
  PostgreSQL is left as Rasa sets it up (Rasa already pools its connections).
- **an ORM query built from scratch**, with the sub-query that finds the latest session, for
  the events to read and again to count the stored ones before writing. Here the same SQL is
  built once, as Core statements with the sender as a bound parameter, so SQLAlchemy compiles
  it once and caches it.

Measured by ``bench/tracker_store.py`` (``bench/PROFILE.md``).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session

_EVENT = SQLTrackerStore.SQLEvent
_SENDER = sa.bindparam("sender_id")
_LATEST_SESSION_START = (
    sa.select(sa.func.max(_EVENT.timestamp))
    .where(_EVENT.sender_id == _SENDER, _EVENT.type_name == SessionStarted.type_name)
    .scalar_subquery()
)
#: Rasa's ``_event_query``: the events since the latest ``session_started``, or all of them.
_IN_LATEST_SESSION = sa.or_(
    _EVENT.timestamp >= _LATEST_SESSION_START, _LATEST_SESSION_START.is_(None)
)
_LATEST_SESSION_EVENTS = (
    sa.select(_EVENT.data)
    .where(_EVENT.sender_id == _SENDER, _IN_LATEST_SESSION)
    .order_by(_EVENT.id)
)
_ALL_EVENTS = sa.select(_EVENT.data).where(_EVENT.sender_id == _SENDER).order_by(_EVENT.id)
_LATEST_SESSION_COUNT = (
    sa.select(sa.func.count())
    .select_from(_EVENT)
    .where(_EVENT.sender_id == _SENDER, _IN_LATEST_SESSION)
)


def pooled_sqlite_engine(engine: Engine) -> Engine:
    """``engine``'s SQLite file behind a pool of kept connections, in write-ahead-log mode.

    Rasa uses the store from its event loop's thread; ``check_same_thread=False`` lets the
    pool hand a kept connection to whichever thread asks (one at a time, as any pool does).
    """
    pooled = sa.create_engine(
        engine.url,
        poolclass=sa.pool.QueuePool,
        connect_args={"check_same_thread": False},
    )

    @sa.event.listens_for(pooled, "connect")
    def _write_ahead_log(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    engine.dispose()
    return pooled


class PooledSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` with kept SQLite connections and queries compiled once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite" and self.engine.url.database not in (
            None,
            "",
            ":memory:",
        ):
            self.engine = pooled_sqlite_engine(self.engine)
            self.sessionmaker = sa.orm.sessionmaker(bind=self.engine)

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        """Rasa's ``_retrieve``, reading the events with the statement compiled once."""
        query = _ALL_EVENTS if fetch_events_from_all_sessions else _LATEST_SESSION_EVENTS
        with self.session_scope() as session:
            rows = session.execute(query, {"sender_id": sender_id}).scalars().all()
        events = [json.loads(data) for data in rows]
        if self.domain and events:
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        return None

    def stored_event_count(self, session: Session, sender_id: str) -> int:
        """How many events of the sender's latest session are stored (Rasa's count)."""
        return session.execute(_LATEST_SESSION_COUNT, {"sender_id": sender_id}).scalar_one()

    def _additional_events(self, session: Session, tracker: DialogueStateTracker) -> Iterator[Any]:
        """The tracker's events past those stored, as Rasa finds them."""
        stored = self.stored_event_count(session, tracker.sender_id)
        return itertools.islice(tracker.events, stored, len(tracker.events))
