"""Latency percentiles, throughput and the ratios to the bare bot: no I/O, so tests pin them."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy

Interval = tuple[float, float]


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile, interpolated between ranks (numpy's default); NaN for none."""
    return float(numpy.percentile(values, q)) if len(values) else math.nan


def busy_seconds(intervals: Iterable[Interval]) -> float:
    """How long at least one message was waiting for its reply (union of the intervals).

    Throughput is counted over this time, not the wall clock: waiting for an e-mailed code or
    writing a household to the database is the bench's own time, not the server's.
    """
    total, end = 0.0, -math.inf
    for start, stop in sorted(intervals):
        if start > end:
            total += stop - start
            end = stop
        elif stop > end:
            total += stop - end
            end = stop
    return total


def ratio(ours: float, bare: float) -> float:
    """``ours / bare``; NaN when the bare figure is missing or zero."""
    return ours / bare if bare and not math.isnan(bare) else math.nan


@dataclass
class Measure:
    """One scenario at one concurrency level, summed over its interleaved chunks."""

    scenario: str
    server: str
    concurrency: int
    latencies: list[float] = field(default_factory=list)
    busy: float = 0.0
    conversations: int = 0
    failed: int = 0
    cpu: dict[str, float] = field(default_factory=dict)

    def add(
        self, intervals: Sequence[Interval], conversations: int, failed: int, cpu: dict[str, float]
    ) -> None:
        """One chunk: its messages' intervals, conversations and CPU seconds by process."""
        self.absorb(
            [stop - start for start, stop in intervals],
            busy_seconds(intervals),
            conversations,
            failed,
            cpu,
        )

    def absorb(
        self,
        latencies: Sequence[float],
        busy: float,
        conversations: int,
        failed: int,
        cpu: dict[str, float],
    ) -> None:
        """Figures already measured, summed into these."""
        self.latencies += latencies
        self.busy += busy
        self.conversations += conversations
        self.failed += failed
        for name, seconds in cpu.items():
            self.cpu[name] = self.cpu.get(name, 0.0) + seconds

    @property
    def messages(self) -> int:
        return len(self.latencies)

    @property
    def msg_per_s(self) -> float:
        return self.messages / self.busy if self.busy > 0 else math.nan

    def latency_ms(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000

    def cpu_per_message(self) -> dict[str, float]:
        """CPU seconds (user + system) each process spent per message of this scenario."""
        count = self.messages or math.nan
        return {name: seconds / count for name, seconds in self.cpu.items()}


def pooled(name: str, measures: Sequence[Measure]) -> Measure:
    """Several scenarios of one server and level as one: every tenant turn counted once."""
    first = measures[0]
    total = Measure(name, first.server, first.concurrency)
    for m in measures:
        total.absorb(m.latencies, m.busy, m.conversations, m.failed, m.cpu)
    return total
