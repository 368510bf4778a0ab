"""Fixed-window attempt counters kept in the database, so several portal processes share them.

Counting is one statement, ``INSERT … ON CONFLICT (key, window_start) DO UPDATE SET hits =
hits + 1 RETURNING hits``, on SQLite (3.35 or later) and PostgreSQL alike: concurrent requests
can neither lose an update nor race to create the same counter. The increment belongs to the
caller's transaction, so an attempt refused with ``RateLimited`` (which rolls it back) does
not count, and the row stays locked until the transaction ends.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Integer, String, bindparam, delete, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import RateLimited
from bot.policy.landlord import COUNTED_LIMITS
from bot.portal.models import RateLimitCounter, utcnow
from bot.portal.models.base import UTCDateTime

# Written out because SQLAlchemy 1.4 compiles RETURNING for PostgreSQL only; the statements
# are the same on both backends. The conflict target is the table's unique (key, window_start).
_TABLE = RateLimitCounter.__tablename__
_UPSERT = (
    f"INSERT INTO {_TABLE} (key, window_start, hits) VALUES (:key, :window_start, 1) "
    f"ON CONFLICT (key, window_start) DO UPDATE SET hits = {_TABLE}.hits + 1"
)
_PARAMETERS = (bindparam("key", type_=String()), bindparam("window_start", type_=UTCDateTime()))
_COUNT = text(f"{_UPSERT} RETURNING hits").bindparams(*_PARAMETERS).columns(hits=Integer())
# A full counter is left as it is: the conflicting row is locked but not updated, and
# RETURNING gives no row.
_TAKE = (
    text(f"{_UPSERT} WHERE {_TABLE}.hits < :limit RETURNING hits")
    .bindparams(*_PARAMETERS, bindparam("limit", type_=Integer()))
    .columns(hits=Integer())
)


def _window_start(now: datetime, window: timedelta) -> datetime:
    seconds = int(window.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo)


async def count(*, session: AsyncSession, key: str, window: timedelta) -> int:
    """Count one attempt for ``key`` in the current window; return the window's count so far."""
    start = _window_start(utcnow(), window)
    return (await session.execute(_COUNT, {"key": key, "window_start": start})).scalar_one()


async def hit(*, session: AsyncSession, key: str, limit: int, window: timedelta) -> None:
    """Count one attempt for ``key``; raise ``RateLimited`` once ``limit`` is exceeded."""
    if await count(session=session, key=key, window=window) > limit:
        raise RateLimited(code="rate_limited")


async def take(*, session: AsyncSession, key: str, limit: int, window: timedelta) -> bool:
    """Count one use of ``key`` if fewer than ``limit`` were counted in the current window;
    ``False``, counting nothing, otherwise. For callers that go on without raising: a refused
    use does not count, so refusals never push the count further."""
    start = _window_start(utcnow(), window)
    values = {"key": key, "window_start": start, "limit": limit}
    return (await session.execute(_TAKE, values)).scalar_one_or_none() is not None


#: Longest window any counter is kept for (of the landlord's limits, the per-address daily
#: email limit); older counters decide nothing any more.
LONGEST_WINDOW = max(limit.window for limit in COUNTED_LIMITS)


async def purge_expired(*, session: AsyncSession, now: datetime) -> int:
    """Delete the counters of windows that started over two longest windows ago; their count."""
    result = await session.execute(
        delete(RateLimitCounter).where(RateLimitCounter.window_start < now - 2 * LONGEST_WINDOW)
    )
    return result.rowcount or 0
