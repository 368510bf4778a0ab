"""Transcript list benchmark: the conversation index against reading Rasa's ``events`` directly.

Fills a temporary SQLite tracker store with synthetic conversations shaped as Rasa stores them
(``bot.staff.transcripts.synthetic``), builds the index in a temporary SQLite portal database,
then measures, in the same run and on the same files, what one list page costs:

* index: the list view's work (the refresh check, then ``queries.list_page`` with its count);
* baseline: the naive query a console without an index would run for the same page (group
  ``events`` by conversation, order by latest event, filter with HAVING, LIMIT/OFFSET).

Pages: the first, a deep one (conversation 7 500 of 10 000), a filtered one (handoff on
Telegram) and a text search. Then the overview page's figures (``bot.staff.overview``: per
day and channel, topics, rates, flows, queue ages) from the index, against the naive query for
just one of them, conversations per Paris day and channel, from ``events`` (so the ratio is a
floor). Reported: median and p95 in milliseconds, and the ratio baseline / index.
Performance is claimed here, never asserted in tests.

    .venv/bin/python -m bench.transcripts [--conversations 10000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import sessionmaker

from bot.policy.french_dates import FRANCE
from bot.portal.db import create_database, create_engine, session_factory
from bot.portal.models import Account, ConversationGrant, ConversationSummary, utcnow
from bot.portal.services.demo import load_demo_data
from bot.staff.overview import metrics
from bot.staff.transcripts import index, queries
from bot.staff.transcripts.synthetic import (
    Turn,
    conversation_rows,
    create_events_table,
    write_rows,
)
from bot.staff.transcripts.tracker import TrackerStore

RESULTS = Path(__file__).with_name("TRANSCRIPTS.md")
SEARCHED = "fuite"
TOPICS = [
    Turn("Bonjour", "greet"),
    Turn("je veux m'inscrire sur l'espace locataire", "register"),
    Turn("j'ai oublié mon mot de passe", "forgot_password"),
    Turn("combien je dois ce mois-ci ?", "check_balance"),
    Turn("je veux payer mon loyer", "pay_rent"),
    Turn("comment mettre à jour mon assurance habitation", "update_insurance"),
    Turn("je voudrais le prélèvement automatique", "setup_direct_debit"),
    Turn("où trouver mon numéro client", "find_client_number"),
    Turn("claire.dupont@example.org", "inform"),
    Turn("oui", "affirm"),
    Turn("merci beaucoup", "thanks"),
]
LEAK = Turn(f"J'ai une {SEARCHED} d'eau dans la salle de bain", "out_of_scope")
HANDOFF = Turn("je veux parler à un conseiller", "human_handoff", actions=("action_handoff",))
FALLBACK = Turn("blorp zzz", "nlu_fallback", 0.3, actions=("action_suggest_topics",))
CHANNELS = ["socketio"] * 12 + ["telegram"] * 4 + ["sms"] * 3 + ["rest"]


def synthetic(count: int, seed: int) -> Iterator[tuple[str, list[Turn], float, str]]:
    """(sender, turns, start, channel) of ``count`` conversations over 90 days, oldest first."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=FRANCE).timestamp()
    for number in range(count):
        turns = [rng.choice(TOPICS) for _ in range(rng.randint(1, 8))]
        if rng.random() < 0.02:
            turns.insert(rng.randrange(len(turns) + 1), LEAK)
        if rng.random() < 0.10:
            turns.insert(rng.randrange(len(turns) + 1), FALLBACK)
        if rng.random() < 0.05:
            turns.append(HANDOFF)
        at = start + number * (90 * 86_400 / count)
        yield f"bench-{number:05d}", turns, at, rng.choice(CHANNELS)


# --------------------------------------------------------------------------- set-up


async def fill_tracker(engine: AsyncEngine, count: int, seed: int) -> int:
    await create_events_table(engine)
    rows = (
        row
        for sender, turns, at, channel in synthetic(count, seed)
        for row in conversation_rows(sender, turns, start=at, channel=channel)
    )
    await write_rows(engine, rows)
    async with engine.connect() as connection:
        return await connection.scalar(text("SELECT count(*) FROM events"))


async def verify_some(sessions: sessionmaker, count: int) -> None:
    """One conversation in ten verified (Dupont's household of the demo data)."""
    async with sessions.begin() as session:
        await load_demo_data(session=session, today=date.today())
        account = await session.scalar(
            select(Account).where(Account.email == "claire.dupont@example.org")
        )
        session.add_all(
            ConversationGrant(
                conversation_id=f"bench-{number:05d}",
                account_id=account.id,
                household_id=account.household_id,
                method="email_code",
                expires_at=utcnow() + timedelta(minutes=30),
            )
            for number in range(0, count, 10)
        )


# --------------------------------------------------------------------------- measuring


@dataclass
class Timing:
    name: str
    index: list[float]
    baseline: list[float]
    rows: int

    @staticmethod
    def ms(values: list[float], p: int = 50) -> float:
        if p == 50:
            return statistics.median(values) * 1000
        return statistics.quantiles(values, n=20)[18] * 1000

    @property
    def ratio(self) -> float:
        return self.ms(self.baseline) / self.ms(self.index)

    @property
    def ratio_text(self) -> str:
        return f"x{self.ratio:.0f}" if self.ratio >= 10 else f"x{self.ratio:.1f}"


async def timed(call: Callable[[], Awaitable[Any]], repeat: int) -> tuple[list[float], Any]:
    result = await call()  # warm-up (and the value to check)
    durations = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        durations.append(time.perf_counter() - started)
    return durations, result


NAIVE_COLUMNS = """
    SELECT sender_id, min(timestamp) AS first_at, max(timestamp) AS last_at,
           sum(type_name = 'user') AS turns, max(id) AS last_id,
           group_concat(DISTINCT intent_name) AS intents,
           max(action_name = 'action_handoff') AS handoff,
           max(intent_name = 'nlu_fallback'
               OR action_name IN ('action_default_fallback', 'action_suggest_topics')) AS fallback,
           max(CASE WHEN type_name = 'user' THEN json_extract(data, '$.input_channel') END)
               AS channel
    FROM events GROUP BY sender_id
"""
HAVING = {
    "all": "",
    "handoff_telegram": (
        "HAVING max(action_name = 'action_handoff') = 1 AND max(type_name = 'user' "
        'AND data LIKE \'%"input_channel": "telegram"%\') = 1'
    ),
    "search": f"HAVING max(type_name = 'user' AND data LIKE '%{SEARCHED}%') = 1",
}


async def naive_page(engine: AsyncEngine, having: str, offset: int, size: int) -> int:
    """The page and its total straight from ``events``, as a console without index would."""
    grouped = f"{NAIVE_COLUMNS} {HAVING[having]}"
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                text(f"{grouped} ORDER BY last_id DESC LIMIT :size OFFSET :offset"),
                {"size": size, "offset": offset},
            )
        ).all()
        await connection.scalar(text(f"SELECT count(*) FROM ({grouped})"))
    return len(rows)


async def index_page(
    sessions: sessionmaker,
    store: TrackerStore,
    filters: queries.ConversationFilters,
    after: int | None,
) -> int:
    """What the list view does: the refresh check, then the page and its count."""
    async with sessions.begin() as session:
        await index.refresh_index(session=session, store=store, max_events=20_000)
    async with sessions() as session:
        page = await queries.list_page(session=session, filters=filters, after=after)
    return len(page.summaries)


NAIVE_FIRST_MESSAGES = """
    SELECT min(timestamp) AS first_at,
           max(CASE WHEN type_name = 'user' THEN json_extract(data, '$.input_channel') END)
               AS channel
    FROM events GROUP BY sender_id HAVING min(timestamp) >= :start AND min(timestamp) < :end
"""


async def naive_days(engine: AsyncEngine, period: metrics.Period) -> int:
    """Conversations per Paris day and channel straight from ``events``; how many in all."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(NAIVE_FIRST_MESSAGES), {"start": period.start, "end": period.end}
        )
        per_day: dict[tuple[date, str], int] = {}
        for first_at, channel in rows:
            day = datetime.fromtimestamp(first_at, FRANCE).date()
            per_day[day, channel] = per_day.get((day, channel), 0) + 1
    return sum(per_day.values())


async def index_overview(
    sessions: sessionmaker, store: TrackerStore, period: metrics.Period
) -> int:
    """What the overview page does: the refresh check, then every figure; how many in all."""
    await index_page_refresh(sessions, store)
    async with sessions() as session:
        figures = await metrics.overview(session=session, period=period, now=utcnow())
    return figures.total


async def cursor_at(sessions: sessionmaker, position: int) -> int:
    """The keyset cursor that leads to the page starting at ``position``."""
    async with sessions() as session:
        return await session.scalar(
            select(ConversationSummary.last_event_id)
            .order_by(ConversationSummary.last_event_id.desc())
            .offset(position - 1)
            .limit(1)
        )


async def run(count: int, repeat: int, seed: int, workdir: Path) -> dict[str, Any]:
    tracker_url = f"sqlite+aiosqlite:///{workdir / 'tracker.db'}"
    writer = create_async_engine(tracker_url)
    portal_engine = create_engine(f"sqlite+aiosqlite:///{workdir / 'portal.db'}")
    store = TrackerStore(tracker_url)
    facts: dict[str, Any] = {"conversations": count}
    try:
        started = time.perf_counter()
        facts["events"] = await fill_tracker(writer, count, seed)
        facts["fill_s"] = time.perf_counter() - started
        await create_database(portal_engine)
        sessions = session_factory(portal_engine)
        await verify_some(sessions, count)

        started = time.perf_counter()
        async with sessions.begin() as session:
            built = await index.refresh_index(session=session, store=store)
        facts["index_s"] = time.perf_counter() - started
        facts["indexed"] = built.conversations

        noop, _ = await timed(lambda: index_page_refresh(sessions, store), repeat)
        facts["noop_ms"] = statistics.median(noop) * 1000
        one_more = conversation_rows("bench-new", TOPICS[:4], start=time.time())
        await write_rows(writer, one_more)
        started = time.perf_counter()
        await index_page_refresh(sessions, store)
        facts["incremental_ms"] = (time.perf_counter() - started) * 1000

        deep = 7_500 if count >= 10_000 else count * 3 // 4
        size = queries.PAGE_SIZE
        pages = [
            ("first page", queries.ConversationFilters(), None, "all", 0),
            (
                f"deep page (after conversation {deep:,})",
                queries.ConversationFilters(),
                deep,
                "all",
                deep,
            ),
            (
                "filtered: handoff + Telegram",
                queries.ConversationFilters(handoff=True, channel="telegram"),
                None,
                "handoff_telegram",
                0,
            ),
            (
                f'text search "{SEARCHED}"',
                queries.ConversationFilters(text=SEARCHED),
                None,
                "search",
                0,
            ),
        ]
        timings = []
        for name, filters, position, having, offset in pages:
            after = await cursor_at(sessions, position) if position else None
            ours, ours_rows = await timed(
                lambda f=filters, a=after: index_page(sessions, store, f, a), repeat
            )
            theirs, their_rows = await timed(
                lambda h=having, o=offset: naive_page(writer, h, o, size), repeat
            )
            if ours_rows != their_rows:
                raise RuntimeError(f"{name}: {ours_rows} rows vs {their_rows} in the baseline")
            timings.append(Timing(name, ours, theirs, ours_rows))
        facts["timings"] = timings
        overviews = []
        last_day = datetime.fromtimestamp(
            next(iter(synthetic(count, seed)))[2], FRANCE
        ).date() + timedelta(days=89)
        for days in (30, 90):
            period = metrics.Period(days, last_day)
            ours, ours_total = await timed(
                lambda p=period: index_overview(sessions, store, p), repeat
            )
            theirs, their_total = await timed(lambda p=period: naive_days(writer, p), repeat)
            if ours_total != their_total:
                raise RuntimeError(f"overview {days} d: {ours_total} vs {their_total}")
            overviews.append(Timing(f"last {days} days", ours, theirs, ours_total))
        facts["overviews"] = overviews
        facts["tracker_mb"] = (workdir / "tracker.db").stat().st_size / 1e6
        facts["portal_mb"] = (workdir / "portal.db").stat().st_size / 1e6
    finally:
        await store.close()
        await writer.dispose()
        await portal_engine.dispose()
    return facts


async def index_page_refresh(sessions: sessionmaker, store: TrackerStore) -> None:
    async with sessions.begin() as session:
        await index.refresh_index(session=session, store=store, max_events=20_000)


# --------------------------------------------------------------------------- report


def report(facts: dict[str, Any], repeat: int) -> str:
    lines = [
        "# Transcript list benchmark (`python -m bench.transcripts`)",
        "",
        f"{facts['conversations']:,} synthetic conversations ({facts['events']:,} events, "
        f"{facts['tracker_mb']:.0f} MB SQLite tracker store) shaped as Rasa 3.6 stores them; "
        f"portal index in SQLite ({facts['portal_mb']:.1f} MB). Same run, same files: the list "
        "view's work with the index (refresh check + keyset page + count) vs. the naive query "
        "over `events` for the same page and count (GROUP BY conversation, HAVING, "
        f"LIMIT/OFFSET). Median and p95 of {repeat} runs after one warm-up.",
        "",
        "| page | rows | index p50 ms | index p95 ms | baseline p50 ms | baseline p95 ms | "
        "baseline / index |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in facts["timings"]:
        lines.append(
            f"| {t.name} | {t.rows} | {t.ms(t.index):.1f} | {t.ms(t.index, 95):.1f} | "
            f"{t.ms(t.baseline):.0f} | {t.ms(t.baseline, 95):.0f} | {t.ratio_text} |"
        )
    lines += [
        "",
        "Overview page (`/staff/`): every figure from the index (refresh check, per day and "
        "channel, topics, fallback and handoff rates with the period before, flows, queue ages) "
        "vs. the naive query for conversations per Paris day and channel alone from `events` "
        "(the other figures would cost the baseline more, so the ratio is a floor).",
        "",
        "| period | conversations | index p50 ms | index p95 ms | baseline p50 ms | "
        "baseline p95 ms | baseline / index |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in facts["overviews"]:
        lines.append(
            f"| {t.name} | {t.rows:,} | {t.ms(t.index):.1f} | {t.ms(t.index, 95):.1f} | "
            f"{t.ms(t.baseline):.0f} | {t.ms(t.baseline, 95):.0f} | {t.ratio_text} |"
        )
    rate = facts["events"] / facts["index_s"]
    lines += [
        "",
        f"- Building the index from scratch (daily job, or first view in bounded steps of "
        f"20 000 events): {facts['index_s']:.1f} s for {facts['indexed']:,} conversations "
        f"({rate:,.0f} events/s).",
        f"- Refresh check when nothing changed (each list view): {facts['noop_ms']:.2f} ms "
        "(median).",
        f"- Refresh after one new conversation: {facts['incremental_ms']:.1f} ms.",
        f"- Filling the synthetic tracker store took {facts['fill_s']:.1f} s (not measured "
        "against anything).",
        "",
        f"Machine: {platform.python_implementation()} {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPU(s), {platform.machine()}. "
        "Absolute times move with the machine's load; the ratios are the claim.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-transcripts-") as workdir:
        facts = asyncio.run(run(args.conversations, args.repeat, args.seed, Path(workdir)))
    body = report(facts, args.repeat)
    args.output.write_text(body, encoding="utf-8")
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
