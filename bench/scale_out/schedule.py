"""The interleaved schedule: at each level, a batch on the embedded stack, then one on each
production stack, so a slower or busier minute of the machine weighs on all of them alike.

A batch mixes the scenarios (one of each in turn) as real tenants' flows mix. Its CPU seconds
are read before and after from the stack's processes, PostgreSQL, Redis, the bench and the
whole machine; its wall-clock time too, so that CPU seconds can be read as cores kept busy.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import httpx

from bench.conversations.responses import ResponseCatalog
from bench.conversations.runner import Outcome, ScenarioRun
from bench.conversations.scenarios import Scenario
from bench.scale_out.processes import Watched
from bench.speed.play import TimedLive, play, prepared_runs
from bench.speed.processes import cpu_delta
from bench.speed.results import ALL_TURNS
from bench.speed.stats import Measure


@dataclass
class Target:
    """One stack as the schedule drives it: its client, the processes charged for it and,
    behind nginx, its Rasa servers (each one's count of turns tells how nginx spread them)."""

    name: str
    live: TimedLive
    pids: dict[str, int]
    rasa_backends: tuple[str, ...] = ()
    metrics_token: str = ""


@dataclass
class Load(Measure):
    """``Measure`` plus the batches' wall-clock seconds and the turns each Rasa server took."""

    wall: float = 0.0
    turns: dict[str, float] = field(default_factory=dict)


def turns_total(metrics: str) -> float:
    """Sum of ``rasa_turns_total`` over its channels, from Prometheus' text format."""
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("rasa_turns_total{")
    )


async def rasa_turns(http: httpx.AsyncClient, target: Target) -> dict[str, float]:
    """Turns each Rasa server behind nginx has handled so far (``rasa-1``, ``rasa-2``…)."""
    counts = {}
    for number, url in enumerate(target.rasa_backends, start=1):
        response = await http.get(
            f"{url}/metrics", headers={"Authorization": f"Bearer {target.metrics_token}"}
        )
        response.raise_for_status()
        counts[f"rasa-{number}"] = turns_total(response.text)
    return counts


async def mixed_runs(
    scenarios: Sequence[Scenario], live: TimedLive, catalog: ResponseCatalog, count: int
) -> list[ScenarioRun]:
    """``count`` conversations at least, the scenarios taking turns, households made first."""
    each = math.ceil(count / len(scenarios))
    groups = [await prepared_runs(scenario, live, catalog, each) for scenario in scenarios]
    return [run for runs in zip(*groups, strict=True) for run in runs]


@dataclass
class Schedule:
    """``conversations`` make a batch, whatever the level: every stack does the same work."""

    targets: Sequence[Target]
    catalog: ResponseCatalog
    watched: Watched
    http: httpx.AsyncClient
    conversations: int
    rounds: int = 1
    failures: dict[str, list[Outcome]] = field(default_factory=dict)

    async def batch(self, target: Target, scenarios: Sequence[Scenario], load: Load) -> None:
        level = load.concurrency
        runs = await mixed_runs(scenarios, target.live, self.catalog, self.conversations)
        turns = await rasa_turns(self.http, target)
        before, started = self.watched.snapshot(target.pids), time.perf_counter()
        chunk = await play(runs, target.live, concurrency=level)
        wall = time.perf_counter() - started
        cpu = cpu_delta(before, self.watched.snapshot(target.pids))
        load.add(chunk.intervals, len(chunk.outcomes), len(chunk.failed), cpu)
        load.wall += wall
        for name, count in cpu_delta(turns, await rasa_turns(self.http, target)).items():
            load.turns[name] = load.turns.get(name, 0.0) + count
        self.failures.setdefault(target.name, []).extend(chunk.failed)
        print(
            f"  {level:>3} at a time  {target.name:<9} {len(chunk.intervals):>4} messages"
            f" in {wall:5.1f} s, {len(chunk.failed)} failed",
            file=sys.stderr,
            flush=True,
        )

    async def warm_up(self, scenarios: Sequence[Scenario]) -> None:
        """One conversation of each scenario on each Rasa server, unmeasured: first predictions
        build TensorFlow graphs, first connections fill the pools. Behind nginx each server is
        warmed directly: through nginx, one tenant's address reaches one server only."""
        for target in self.targets:
            for url in target.rasa_backends or (target.live.rasa_url,):
                live = replace(target.live, rasa_url=url)
                for scenario in scenarios:
                    chunk = await play(
                        await prepared_runs(scenario, live, self.catalog, 1), live, concurrency=1
                    )
                    self.failures.setdefault(target.name, []).extend(chunk.failed)

    async def run(self, scenarios: Sequence[Scenario], levels: Sequence[int]) -> list[Load]:
        """At each level, ``rounds`` times: each stack in turn, one mixed batch."""
        await self.warm_up(scenarios)
        loads = []
        for level in levels:
            here = [Load(ALL_TURNS, target.name, level) for target in self.targets]
            for _ in range(self.rounds):
                for target, load in zip(self.targets, here, strict=True):
                    await self.batch(target, scenarios, load)
            loads += here
        return loads
