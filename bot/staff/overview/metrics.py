"""The overview's figures for a period, from the conversation index and the validation queue.

A conversation belongs to the period its first event falls in (``ConversationSummary.first_at``,
epoch seconds) and to the day it started on in Paris: the team lead's calendar, not the server's.

What each figure costs with 10 000 conversations in the period:

- per day and channel: one ``GROUP BY`` (day number, channel), the day number found by
  comparing ``first_at`` with each Paris midnight of the period (a day is not always 24 h);
- topics: one ``GROUP BY intents`` (the combinations, far fewer than conversations), split and
  added up in Python (intents are a list in a text column);
- fallback and handoff rates, this period and the one before: one aggregate query;
- flows started and completed: one aggregate query (``LIKE '% name %'`` per flow);
- validation queue: the pending items only (a handful), through ``validation_queue``.

Measured by ``python -m bench.transcripts`` against per-day counts read from ``events``, in
the same run (``bench/TRANSCRIPTS.md``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.policy.french_dates import FRANCE
from bot.portal.models import ConversationSummary, utcnow
from bot.staff.overview.topics import top_topics
from bot.staff.services.validation_queue import DIRECT_DEBIT, INSURANCE, validation_queue
from bot.staff.transcripts.flows import FLOWS

#: Periods offered, in days; anything else in ``?jours=`` shows the default.
PERIODS = (7, 30, 90)
DEFAULT_DAYS = 30
#: Channels drawn in their own colour, in the legend's order; the others are ``OTHER``.
CHANNELS = ("socketio", "telegram", "sms", "rest")
OTHER = "other"
#: Validation queues, in the chart's order.
QUEUES = (INSURANCE, DIRECT_DEBIT)
#: Age buckets of a pending item: under a day, within the promised delay, past its deadline.
FRESH, DUE_SOON, OVERDUE = "fresh", "due_soon", "overdue"
AGE_BUCKETS = (FRESH, DUE_SOON, OVERDUE)
_DAY = timedelta(hours=24)


def parse_days(raw: str | None) -> int:
    """``?jours=`` as one of ``PERIODS``; anything else is the default (no error page)."""
    try:
        days = int((raw or "").strip())
    except ValueError:
        return DEFAULT_DAYS
    return days if days in PERIODS else DEFAULT_DAYS


def _midnight(day: date) -> float:
    return datetime.combine(day, time(0), FRANCE).timestamp()


@dataclass(frozen=True)
class Period:
    """``days`` whole Paris days ending with ``last_day`` (today: the day so far)."""

    days: int
    last_day: date

    @property
    def first_day(self) -> date:
        return self.last_day - timedelta(days=self.days - 1)

    @property
    def start(self) -> float:
        """Epoch seconds of the first day's midnight in Paris."""
        return _midnight(self.first_day)

    @property
    def end(self) -> float:
        """Epoch seconds of the midnight after the last day (excluded)."""
        return _midnight(self.last_day + timedelta(days=1))

    def previous(self) -> Period:
        """The period of the same length just before, to compare with."""
        return Period(self.days, self.first_day - timedelta(days=1))

    def day_list(self) -> list[date]:
        return [self.first_day + timedelta(days=offset) for offset in range(self.days)]


# --------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class DayCounts:
    """Conversations started on ``day`` (Paris), by channel (``CHANNELS`` and ``OTHER``)."""

    day: date
    by_channel: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_channel.values())


@dataclass(frozen=True)
class Share:
    """``count`` conversations out of ``total``; ``percent`` is None when there were none."""

    count: int
    total: int

    @property
    def percent(self) -> float | None:
        return 100 * self.count / self.total if self.total else None


@dataclass(frozen=True)
class Rates:
    """Conversations that hit a fallback / asked for a person, in a period."""

    fallback: Share
    handoff: Share


@dataclass(frozen=True)
class FlowCounts:
    """Conversations of the period that started / completed ``flow`` (a ``flows.Flow`` name)."""

    flow: str
    started: int
    completed: int

    @property
    def completion(self) -> Share:
        return Share(self.completed, self.started)


@dataclass(frozen=True)
class QueueAges:
    """Pending items of one validation queue, by age bucket (``AGE_BUCKETS``)."""

    kind: str
    buckets: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.buckets.values())


@dataclass(frozen=True)
class Oldest:
    """The item waiting longest, across the queues."""

    kind: str
    age: timedelta
    overdue: bool


@dataclass(frozen=True)
class Overview:
    """Everything the overview page shows for one period."""

    period: Period
    days: list[DayCounts]
    topics: list[tuple[str, int]]
    rates: Rates
    previous_rates: Rates
    flows: list[FlowCounts]
    #: Conversations of the period indexed before flows were recorded (not in ``flows``).
    flows_unrecorded: int
    queues: list[QueueAges]
    oldest: Oldest | None
    #: Whether the index holds any conversation at all (a fresh install says so).
    any_conversation: bool

    @property
    def total(self) -> int:
        """Conversations started in the period."""
        return sum(day.total for day in self.days)

    def channel_totals(self) -> dict[str, int]:
        """Conversations of the period per channel, in the legend's order."""
        return {
            channel: sum(day.by_channel[channel] for day in self.days)
            for channel in (*CHANNELS, OTHER)
        }


# --------------------------------------------------------------------------- queries


def _in(period: Period) -> ColumnElement[bool]:
    first_at = ConversationSummary.first_at
    return and_(first_at >= period.start, first_at < period.end)


def _day_number(period: Period) -> ColumnElement[int]:
    """The Paris day a conversation started on, as its number in the period (0: the first).

    Compared with each midnight of the period: exact across daylight-saving changes on every
    backend (no time-zone database needed), and the grouping stays in SQL.
    """
    midnights = [_midnight(day) for day in period.day_list()[1:]]
    first_at = ConversationSummary.first_at
    if not midnights:
        return literal(0)
    return case(
        *[(first_at < midnight, number) for number, midnight in enumerate(midnights)],
        else_=len(midnights),
    )


async def days_and_topics(
    *, session: AsyncSession, period: Period
) -> tuple[list[DayCounts], list[tuple[str, int]]]:
    """Conversations per Paris day and channel, and the period's top topics."""
    s = ConversationSummary
    # A subquery: PostgreSQL would not see the CASE of the GROUP BY (its parameters are new
    # placeholders) as the one selected.
    started = select(_day_number(period).label("day"), s.channel).where(_in(period)).subquery()
    rows = await session.execute(
        select(started.c.day, started.c.channel, func.count()).group_by(
            started.c.day, started.c.channel
        )
    )
    counts: Counter[tuple[int, str]] = Counter()
    for day_number, channel, conversations in rows:
        counts[day_number, channel if channel in CHANNELS else OTHER] += conversations
    days = [
        DayCounts(day, {channel: counts[n, channel] for channel in (*CHANNELS, OTHER)})
        for n, day in enumerate(period.day_list())
    ]
    combinations = await session.execute(
        select(s.intents, func.count()).where(_in(period)).group_by(s.intents)
    )
    return days, top_topics(combinations.all())


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def rates(*, session: AsyncSession, period: Period) -> tuple[Rates, Rates]:
    """Fallback and handoff rates of ``period`` and of the period before it."""
    s, before = ConversationSummary, period.previous()
    now, then = _in(period), _in(before)
    row = (
        await session.execute(
            select(
                _count(now),
                _count(and_(now, s.had_fallback)),
                _count(and_(now, s.had_handoff)),
                _count(then),
                _count(and_(then, s.had_fallback)),
                _count(and_(then, s.had_handoff)),
            ).where(s.first_at >= before.start, s.first_at < period.end)
        )
    ).one()
    total, fallback, handoff, before_total, before_fallback, before_handoff = map(int, row)
    return (
        Rates(Share(fallback, total), Share(handoff, total)),
        Rates(Share(before_fallback, before_total), Share(before_handoff, before_total)),
    )


async def flow_counts(*, session: AsyncSession, period: Period) -> tuple[list[FlowCounts], int]:
    """Per flow, conversations of the period that started / completed it; and how many
    conversations of the period were indexed before flows were recorded."""
    s = ConversationSummary
    columns = [
        _count(column.like(f"% {flow.name} %"))
        for flow in FLOWS
        for column in (s.flows_started, s.flows_completed)
    ]
    unrecorded = _count(s.flows_started.is_(None))
    row = (await session.execute(select(*columns, unrecorded).where(_in(period)))).one()
    values = [int(value) for value in row]
    flows = [
        FlowCounts(flow.name, values[2 * number], values[2 * number + 1])
        for number, flow in enumerate(FLOWS)
    ]
    return flows, values[-1]


def _bucket(age: timedelta, overdue: bool) -> str:
    if overdue:
        return OVERDUE
    return FRESH if age < _DAY else DUE_SOON


async def queue_ages(
    *, session: AsyncSession, now: datetime | None = None
) -> tuple[list[QueueAges], Oldest | None]:
    """Pending items per queue and age bucket (the queue's own deadlines), and the oldest."""
    now = now or utcnow()
    items = await validation_queue(session=session, now=now)
    buckets = {kind: dict.fromkeys(AGE_BUCKETS, 0) for kind in QUEUES}
    for item in items:
        buckets[item.kind][_bucket(now - item.created_at, item.overdue)] += 1
    oldest = None
    if items:  # oldest first
        first = items[0]
        oldest = Oldest(kind=first.kind, age=now - first.created_at, overdue=first.overdue)
    return [QueueAges(kind, buckets[kind]) for kind in QUEUES], oldest


async def any_conversation(*, session: AsyncSession) -> bool:
    found = await session.scalar(
        select(ConversationSummary.id).where(ConversationSummary.first_at.is_not(None)).limit(1)
    )
    return found is not None


async def overview(
    *, session: AsyncSession, period: Period, now: datetime | None = None
) -> Overview:
    """All the figures of the overview page for ``period``."""
    days, topics = await days_and_topics(session=session, period=period)
    current, previous = await rates(session=session, period=period)
    flows, unrecorded = await flow_counts(session=session, period=period)
    queues, oldest = await queue_ages(session=session, now=now)
    return Overview(
        period=period,
        days=days,
        topics=topics,
        rates=current,
        previous_rates=previous,
        flows=flows,
        flows_unrecorded=unrecorded,
        queues=queues,
        oldest=oldest,
        any_conversation=await any_conversation(session=session),
    )
