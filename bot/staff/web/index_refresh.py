"""Bring the conversation index up to date before a page reads it (the list, the overview).

A page view indexes at most ``PAGE_VIEW_BUDGET`` events so that it answers quickly after a
long pause; the daily job catches up the rest. An unreachable tracker store is not an error:
the page shows what is indexed and says the figures may be behind.
"""

from __future__ import annotations

from sanic import Request

from bot.staff.transcripts import index
from bot.staff.transcripts.index import IndexRefresh
from bot.staff.transcripts.tracker import TrackerStore, TrackerUnavailable

#: Events a page view indexes at most before answering.
PAGE_VIEW_BUDGET = 20_000


def tracker_store(request: Request) -> TrackerStore:
    """The app's read-only tracker store (one engine for every request)."""
    return request.app.ctx.tracker


async def refresh_before_reading(request: Request) -> tuple[IndexRefresh | None, bool]:
    """Index what Rasa wrote since; (what it did, whether the store answered)."""
    try:
        async with request.app.ctx.sessions.begin() as session:
            done = await index.refresh_index(
                session=session, store=tracker_store(request), max_events=PAGE_VIEW_BUDGET
            )
    except TrackerUnavailable:
        return None, False
    return done, True
