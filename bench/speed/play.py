"""Plays a number of copies of one scenario, so many at a time, timing every message.

The conversations run through the conversation bench's ``ScenarioRun`` (same placeholders, same
checks); only ``Live.say`` is timed, from the request to its reply.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace
from typing import Any

from bench.conversations.live import Live
from bench.conversations.responses import ResponseCatalog
from bench.conversations.runner import Outcome, ScenarioRun
from bench.conversations.scenarios import Scenario
from bench.speed.stats import Interval


@dataclass
class TimedLive(Live):
    """``Live`` that keeps (start, end) of every message it sends."""

    intervals: list[Interval] = field(default_factory=list)

    async def say(self, sender: str, message: str) -> list[dict[str, Any]]:
        started = time.perf_counter()
        replies = await super().say(sender, message)
        self.intervals.append((started, time.perf_counter()))
        return replies


@dataclass
class Chunk:
    """What one batch of conversations gave: its messages' intervals and the failures."""

    intervals: list[Interval]
    outcomes: list[Outcome]

    @property
    def failed(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if not outcome.passed]


async def prepared_runs(
    scenario: Scenario, live: Live, catalog: ResponseCatalog, count: int
) -> list[ScenarioRun]:
    """``count`` runs of ``scenario``, their households already in the portal's database."""
    runs = [ScenarioRun(replace(scenario, household=None), live, catalog) for _ in range(count)]
    if scenario.household is not None:
        for run in runs:
            run.context.update(await live.create_household(scenario.household))
    return runs


async def play(runs: list[ScenarioRun], live: TimedLive, *, concurrency: int) -> Chunk:
    """The prepared ``runs``, ``concurrency`` at a time."""
    gate = asyncio.Semaphore(concurrency)

    async def one(run: ScenarioRun) -> Outcome:
        async with gate:
            return await run.run()

    first = len(live.intervals)
    outcomes = await asyncio.gather(*(one(run) for run in runs))
    return Chunk(live.intervals[first:], list(outcomes))
