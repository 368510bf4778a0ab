"""CPU seconds and resident memory of the servers' processes, read with psutil.

A server is its process and whatever it spawned (a worker would otherwise hide its cost).
Memory is sampled by a thread every 0.2 s: peaks between samples are missed, not invented.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

import psutil

SAMPLE_SECONDS = 0.2


def tree(pid: int) -> list[psutil.Process]:
    """The process and its live descendants; empty once it is gone."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process tree so far."""
    total = 0.0
    for process in tree(pid):
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def rss_bytes(pid: int) -> int:
    """Resident memory of a process tree now."""
    total = 0
    for process in tree(pid):
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


def cpu_snapshot(pids: Mapping[str, int]) -> dict[str, float]:
    return {name: cpu_seconds(pid) for name, pid in pids.items()}


def cpu_delta(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
    return {name: after[name] - before[name] for name in before}


class RssSampler:
    """Peak RSS of each named process, and the peak of their sum at one instant, while running.

    ``with RssSampler(pids) as sampler: ...`` then ``sampler.peaks``, ``sampler.peak_sum(names)``.
    """

    def __init__(self, pids: Mapping[str, int], interval: float = SAMPLE_SECONDS) -> None:
        self.pids = dict(pids)
        self.interval = interval
        self.samples: list[dict[str, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        while True:
            self.samples.append({name: rss_bytes(pid) for name, pid in self.pids.items()})
            if self._stop.wait(self.interval):
                return

    @property
    def peaks(self) -> dict[str, int]:
        return {name: max((s[name] for s in self.samples), default=0) for name in self.pids}

    def peak_sum(self, names: list[str]) -> int:
        """The largest total of ``names`` seen in one sample (not the sum of their peaks)."""
        return max((sum(sample[name] for name in names) for sample in self.samples), default=0)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
