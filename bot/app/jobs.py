"""The portal's daily jobs, run once a day by ``python -m bot.cli daily-jobs`` (cron, timer).

Every job is idempotent (running it twice on the same day changes nothing more) and runs in a
transaction of its own, so that one failing job neither undoes nor blocks the others. Emails
they queue go out through the outbox, delivered by the running portal.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time

from sqlalchemy.ext.asyncio import AsyncSession

from bot.policy.french_dates import FRANCE
from bot.portal.db import create_engine, session_factory
from bot.portal.models.encrypted import use_data_key
from bot.portal.services import ratelimit
from bot.portal.services.accounts import deactivate_moved_out
from bot.portal.services.direct_debit import purge_expired_drafts
from bot.portal.services.insurance import send_expiry_reminders
from bot.settings import Settings
from bot.staff.retention.transcripts import purge_expired_transcripts
from bot.staff.transcripts.index import index_conversations

log = logging.getLogger(__name__)

Job = Callable[[AsyncSession, Settings, date], Awaitable[int]]


async def _deactivate_moved_out(session: AsyncSession, settings: Settings, today: date) -> int:
    return await deactivate_moved_out(session=session, today=today)


async def _insurance_reminders(session: AsyncSession, settings: Settings, today: date) -> int:
    return await send_expiry_reminders(session=session, settings=settings, today=today)


async def _purge_iban_drafts(session: AsyncSession, settings: Settings, today: date) -> int:
    return await purge_expired_drafts(session=session)


async def _index_conversations(session: AsyncSession, settings: Settings, today: date) -> int:
    # The staff console's conversation index (each list view also refreshes it, in steps).
    return await index_conversations(session=session, settings=settings)


async def _purge_transcripts(session: AsyncSession, settings: Settings, today: date) -> int:
    # Counted from the start of the day in France, so that every run of the day agrees.
    start_of_day = datetime.combine(today, time(0), tzinfo=FRANCE)
    return await purge_expired_transcripts(session=session, settings=settings, now=start_of_day)


async def _purge_rate_limit_counters(session: AsyncSession, settings: Settings, today: date) -> int:
    start_of_day = datetime.combine(today, time(0), tzinfo=FRANCE)
    return await ratelimit.purge_expired(session=session, now=start_of_day)


#: Name of the count in the result -> job; add new daily jobs here.
DAILY_JOBS: dict[str, Job] = {
    "deactivated_accounts": _deactivate_moved_out,
    "insurance_reminders": _insurance_reminders,
    "expired_iban_drafts": _purge_iban_drafts,
    "indexed_conversations": _index_conversations,
    "expired_conversations": _purge_transcripts,
    "expired_rate_limit_counters": _purge_rate_limit_counters,
}


class DailyJobsFailed(Exception):
    """Some jobs failed (logged with their traceback); the others ran and are in ``results``."""

    def __init__(self, failed: list[str], results: dict[str, int]):
        super().__init__(", ".join(failed))
        self.failed = failed
        self.results = results


async def run_daily_jobs(settings: Settings, today: date) -> dict[str, int]:
    """Run every daily job for ``today``; return what each one did (a count)."""
    use_data_key(settings.data_encryption_key)
    engine = create_engine(settings.resolved_database_url)
    sessions = session_factory(engine)
    results: dict[str, int] = {}
    failed: list[str] = []
    try:
        for name, job in DAILY_JOBS.items():
            try:
                async with sessions.begin() as session:
                    results[name] = await job(session, settings, today)
            except Exception:  # noqa: BLE001 - the other jobs must still run
                log.exception("daily job %s failed", name)
                failed.append(name)
    finally:
        await engine.dispose()
    if failed:
        raise DailyJobsFailed(failed, results)
    return results
