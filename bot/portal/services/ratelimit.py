"""Fixed-window attempt counters kept in the database, so several portal processes share them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.portal.errors import RateLimited
from bot.portal.models import RateLimitCounter, utcnow


def _window_start(now: datetime, window: timedelta) -> datetime:
    seconds = int(window.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo)


async def hit(*, session: AsyncSession, key: str, limit: int, window: timedelta) -> None:
    """Count one attempt for ``key``; raise ``RateLimited`` once ``limit`` is exceeded."""
    start = _window_start(utcnow(), window)
    counter = await session.scalar(
        select(RateLimitCounter)
        .where(RateLimitCounter.key == key, RateLimitCounter.window_start == start)
        .with_for_update()
    )
    if counter is None:
        counter = RateLimitCounter(key=key, window_start=start, hits=0)
        session.add(counter)
    counter.hits += 1
    await session.flush()
    if counter.hits > limit:
        raise RateLimited("Trop de tentatives, réessayez plus tard.", code="rate_limited")
