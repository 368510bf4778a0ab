"""The interleaved schedule: at each concurrency level, a batch of the bare bot before each
batch of ours, so a slower or busier minute of the machine weighs on both sides alike.

Each batch's CPU seconds are read from the processes of the server it talks to, before and after.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.conversations.responses import ResponseCatalog
from bench.conversations.runner import Outcome
from bench.conversations.scenarios import Scenario
from bench.speed.play import TimedLive, play, prepared_runs
from bench.speed.processes import cpu_delta, cpu_snapshot
from bench.speed.stats import Measure


@dataclass
class Side:
    """One server as the schedule drives it: its client and the processes charged for it."""

    server: str
    live: TimedLive
    pids: dict[str, int]


@dataclass
class Schedule:
    bare: Side
    ours: Side
    catalog: ResponseCatalog
    conversations: int
    failures: list[Outcome] = field(default_factory=list)

    async def batch(self, scenario: Scenario, side: Side, measure: Measure, level: int) -> None:
        runs = await prepared_runs(scenario, side.live, self.catalog, self.conversations)
        before = cpu_snapshot(side.pids)
        chunk = await play(runs, side.live, concurrency=level)
        cpu = cpu_delta(before, cpu_snapshot(side.pids))
        measure.add(chunk.intervals, len(chunk.outcomes), len(chunk.failed), cpu)
        self.failures += chunk.failed
        print(
            f"  {level:>3} at a time  {side.server:<4} {scenario.name:<18}"
            f" {len(chunk.intervals):>4} messages, {len(chunk.failed)} failed",
            file=sys.stderr,
            flush=True,
        )

    async def warm_up(self, bare: Scenario, ours: Sequence[Scenario]) -> None:
        """One conversation of each, unmeasured: first predictions build TensorFlow graphs."""
        for scenario, side in [(bare, self.bare), *((s, self.ours) for s in ours)]:
            runs = await prepared_runs(scenario, side.live, self.catalog, 1)
            chunk = await play(runs, side.live, concurrency=1)
            self.failures += chunk.failed

    async def run(
        self, bare: Scenario, ours: Sequence[Scenario], levels: Sequence[int]
    ) -> list[Measure]:
        """Bare, ours A, bare, ours B… at each level; bare's batches pooled per level."""
        await self.warm_up(bare, ours)
        measures = []
        for level in levels:
            bare_measure = Measure(bare.name, self.bare.server, level)
            measures.append(bare_measure)
            for scenario in ours:
                await self.batch(bare, self.bare, bare_measure, level)
                measure = Measure(scenario.name, self.ours.server, level)
                await self.batch(scenario, self.ours, measure, level)
                measures.append(measure)
        return measures
