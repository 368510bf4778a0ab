"""CPU seconds of everything a batch makes busy, beyond the supervised processes.

The speed bench's ``cpu_snapshot`` covers the stacks' own process trees. The production
topology also works PostgreSQL's backends and Redis, which the system started, and the bench
itself (its HTTP clients, and the embedded stack's SMTP sink, a thread of this process) shares
the two cores: all are read here, with the whole machine's busy time to show what is left.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import psutil

from bench.speed.processes import cpu_seconds, cpu_snapshot

POSTGRES = "postgres"
REDIS = "redis"
CLIENT = "bench client"
MACHINE = "machine"


def system_server(name: str) -> int | None:
    """The oldest process called ``name`` whose parent is not one too: the server itself
    (PostgreSQL's postmaster, not one of its backends); ``None`` when none runs."""
    found = []
    for process in psutil.process_iter(["name", "ppid", "create_time"]):
        if process.info["name"] != name:
            continue
        try:
            parent = psutil.Process(process.info["ppid"]).name()
        except psutil.NoSuchProcess:
            parent = ""
        if parent != name:
            found.append((process.info["create_time"], process.pid))
    return min(found)[1] if found else None


def with_reaped(pid: int | None) -> float:
    """``cpu_seconds`` of a tree plus what its root's finished children used: PostgreSQL ends a
    backend with its connection, and that backend's work must still count."""
    if pid is None:
        return 0.0
    try:
        root = psutil.Process(pid).cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return cpu_seconds(pid) + root.children_user + root.children_system


def own_cpu() -> float:
    """This process only (its children are the stacks, counted under their own names)."""
    times = psutil.Process(os.getpid()).cpu_times()
    return times.user + times.system


def machine_busy() -> float:
    """CPU seconds all cores spent on anything but waiting (idle, I/O wait, the hypervisor)."""
    times = psutil.cpu_times()
    waiting = times.idle + getattr(times, "iowait", 0.0) + getattr(times, "steal", 0.0)
    return sum(times) - waiting - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)


class Watched:
    """The stacks' processes plus the system's servers, found once, read together."""

    def __init__(self) -> None:
        self.postgres = system_server("postgres")
        self.redis = system_server("redis-server")

    def snapshot(self, pids: Mapping[str, int]) -> dict[str, float]:
        return {
            **cpu_snapshot(pids),
            POSTGRES: with_reaped(self.postgres),
            REDIS: with_reaped(self.redis),
            CLIENT: own_cpu(),
            MACHINE: machine_busy(),
        }
