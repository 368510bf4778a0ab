"""The run's figures as one JSON-ready record: a row per topology and level with its ratios,
CPU per message and cores kept busy per kind of process, and the goal of issue 12.

Pure: the Markdown and ``bench/results/scale_out.json`` are both written from this record.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bench.scale_out.processes import MACHINE
from bench.scale_out.schedule import Load
from bench.speed.results import finite
from bench.speed.stats import ratio

EMBEDDED, ONE_SERVER, TWO_SERVERS = "embedded", "1 server", "2 servers"
#: Issue 12: two Rasa servers at least this many times one server's msg/s.
GOAL_RATIO = 1.5
OTHER = "other"
#: Columns of the CPU tables, in order; a process is counted under its kind (``kind``).
KINDS = (
    "rasa-1",
    "rasa-2",
    "actions",
    "portals",
    "nginx",
    "smtp-relay",
    "postgres",
    "redis",
    "bench client",
    OTHER,
)


def kind(process: str) -> str:
    """``portal-2`` and the embedded ``portal`` are portals; the embedded ``rasa`` is rasa-1."""
    if process == "rasa":
        return "rasa-1"
    for plural, prefix in (("portals", "portal"), ("actions", "actions")):
        if process == prefix or process.startswith(f"{prefix}-"):
            return plural
    return process


def by_kind(cpu: Mapping[str, float]) -> dict[str, float]:
    """CPU seconds per kind; ``other``: the machine's busy time no process here accounts for
    (the idle stacks' timers, the system, anything else on the machine)."""
    kinds: dict[str, float] = {}
    for process, seconds in cpu.items():
        if process != MACHINE:
            kinds[kind(process)] = kinds.get(kind(process), 0.0) + seconds
    if MACHINE in cpu:
        kinds[OTHER] = cpu[MACHINE] - sum(kinds.values())
    return kinds


def per(values: Mapping[str, float], divisor: float, scale: float = 1.0) -> dict[str, float]:
    return {name: value * scale / divisor for name, value in values.items()} if divisor else {}


def in_flight(load: Load) -> float:
    """Messages waiting for their reply on average (Little's law): near the number of tenants,
    they queue at the servers; well below, the tenants' own pace sets the rate."""
    return sum(load.latencies) / load.busy if load.busy else float("nan")


def row(load: Load, embedded: Load, one_server: Load | None) -> dict[str, Any]:
    """One topology at one level: speed, ratios, CPU ms per message and cores per kind."""
    kinds = by_kind(load.cpu)
    machine = load.cpu.get(MACHINE, float("nan"))
    vs_one = (
        ratio(load.msg_per_s, one_server.msg_per_s)
        if one_server is not None and load.server == TWO_SERVERS
        else float("nan")
    )
    return {
        "topology": load.server,
        "concurrency": load.concurrency,
        "conversations": load.conversations,
        "failed": load.failed,
        "messages": load.messages,
        "wall_s": finite(load.wall, 1),
        "msg_per_s": finite(load.msg_per_s, 2),
        "p50_ms": finite(load.latency_ms(50), 1),
        "p95_ms": finite(load.latency_ms(95), 1),
        "p99_ms": finite(load.latency_ms(99), 1),
        "in_flight": finite(in_flight(load), 1),
        "vs_embedded": finite(ratio(load.msg_per_s, embedded.msg_per_s), 3),
        "p95_vs_embedded": finite(ratio(load.latency_ms(95), embedded.latency_ms(95)), 3),
        "vs_one_server": finite(vs_one, 3),
        "cpu_ms_per_msg": {k: round(v, 2) for k, v in per(kinds, load.messages, 1000).items()},
        "machine_ms_per_msg": finite(machine * 1000 / load.messages, 2) if load.messages else None,
        "cores": {k: round(v, 3) for k, v in per(kinds, load.wall).items()},
        "machine_cores": finite(machine / load.wall, 3) if load.wall else None,
        "rasa_turns": dict(load.turns),
    }


def rows(loads: Sequence[Load]) -> list[dict[str, Any]]:
    """Per level, each topology, ratios to the embedded stack and (2 servers) to 1 server."""
    out = []
    for level in dict.fromkeys(load.concurrency for load in loads):
        here = {load.server: load for load in loads if load.concurrency == level}
        embedded, one = here[EMBEDDED], here.get(ONE_SERVER)
        out += [row(load, embedded, one) for load in here.values()]
    return out


def goals(table: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Issue 12's goal at each level: 2 servers' msg/s ÷ 1 server's, against ×1.5."""
    return [
        {
            "goal": f"{r['concurrency']} tenants at a time: msg/s of 2 servers ÷ 1 server",
            "value": r["vs_one_server"],
            "target": f"≥ {GOAL_RATIO}",
            "met": None if r["vs_one_server"] is None else r["vs_one_server"] >= GOAL_RATIO,
        }
        for r in table
        if r["topology"] == TWO_SERVERS
    ]


def record(loads: Sequence[Load], context: Mapping[str, Any]) -> dict[str, Any]:
    """``context`` (machine, run, cold start, log problems) with the rows and the goals."""
    table = rows(loads)
    return {**context, "rows": table, "goals": goals(table)}
