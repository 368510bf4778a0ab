"""Markdown tables of the run's record, for the terminal and for ``bench/RESULTS.md``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

PROCESS_NAMES = {
    "bare-rasa": "bare Rasa",
    "rasa": "our Rasa",
    "actions": "action server",
    "portal": "portal",
}


def number(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def times(value: float | None) -> str:
    return "–" if value is None else f"×{value:.2f}"


def label(r: Mapping[str, Any]) -> str:
    return f"{r['scenario']} (bare)" if r["server"] == "bare" else r["scenario"]


def in_order(names: Iterable[str]) -> list[str]:
    """Process names once each, bare first, then ours as ``PROCESS_NAMES`` lists them."""
    known = list(PROCESS_NAMES)
    unique = dict.fromkeys(names)
    return sorted(unique, key=lambda name: known.index(name) if name in known else len(known))


def speed_table(rows: Sequence[Mapping[str, Any]]) -> str:
    lines = [
        "| scenario | tenants at a time | conversations | failed | messages | msg/s "
        "| p50 ms | p95 ms | p99 ms | msg/s ÷ bare | p95 ÷ bare |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {label(r)} | {r['concurrency']} | {r['conversations']} | {r['failed']} "
            f"| {r['messages']} | {number(r['msg_per_s'])} | {number(r['p50_ms'], 0)} "
            f"| {number(r['p95_ms'], 0)} | {number(r['p99_ms'], 0)} "
            f"| {times(r['throughput_ratio'])} | {times(r['p95_ratio'])} |"
        )
    return "\n".join(lines)


def cpu_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """CPU milliseconds per message of each process, and of the server's processes together."""
    processes = in_order(name for r in rows for name in r["cpu_s_per_msg"])
    head = " | ".join(PROCESS_NAMES.get(name, name) for name in processes)
    lines = [
        f"| scenario | tenants at a time | {head} | together |",
        "|---|---:|" + "---:|" * (len(processes) + 1),
    ]
    for r in rows:
        cpu = r["cpu_s_per_msg"]
        cells = [
            number(cpu[name] * 1000) if cpu.get(name) is not None else "" for name in processes
        ]
        known = [cpu[name] for name in processes if cpu.get(name) is not None]
        together = number(sum(known) * 1000) if known else "–"
        lines.append(f"| {label(r)} | {r['concurrency']} | {' | '.join(cells)} | {together} |")
    return "\n".join(lines)


def memory_table(memory: Mapping[str, Any]) -> str:
    lines = ["| process | peak RSS MiB |", "|---|---:|"]
    peaks = memory["peak_rss_mb"]
    for name in in_order(peaks):
        lines.append(f"| {PROCESS_NAMES.get(name, name)} | {peaks[name]:.0f} |")
    lines.append(
        f"| **ours together** (peak of the sum) | **{memory['ours_total_peak_mb']:.0f}** |"
    )
    lines.append(f"| bare and ours together | {memory['all_total_peak_mb']:.0f} |")
    return "\n".join(lines)


def goals_table(goals: Sequence[Mapping[str, Any]]) -> str:
    lines = ["| goal | measured | target | met |", "|---|---:|---|---|"]
    for g in goals:
        met = "–" if g["met"] is None else "yes" if g["met"] else "**no**"
        value = "–" if g["value"] is None else f"{g['value']:g}"
        lines.append(f"| {g['goal']} | {value} | {g['target']} | {met} |")
    return "\n".join(lines)


def tables(data: Mapping[str, Any]) -> str:
    """Everything measured, as the terminal prints it."""
    return "\n\n".join(
        [
            speed_table(data["rows"]),
            "CPU ms per message:\n\n" + cpu_table(data["rows"]),
            memory_table(data["memory"]),
            cold_start_table(data["cold_start_s"]),
            goals_table(data["goals"]),
        ]
    )


INTRO = """\
`make bench` (`python -m bench.speed`, issue 11). One run starts two servers side by side on free
loopback ports: the **bare** `rasa init` mood bot, trained with the project's Rasa (cached in
`var/bench/bare/`), and **our** stack (portal, action server, Rasa with the model in `models/`).
It then plays, at each concurrency level, a batch of bare mood-bot conversations ("hello",
"I am sad", "yes", "bye") before each batch of one of our scenarios (`bench/speed/scenarios/`),
so that a busier minute of the machine weighs on both sides alike. Every reply of ours is
checked as in `make conversations`; each conversation has a household of its own, created
before the timing.

- Latency: one message, from the REST request (`POST /webhooks/rest/webhook`) to its reply.
- msg/s: messages ÷ the time at least one message was waiting for its reply (the wait for an
  e-mailed code is the bench's, not the server's). Ratios are to the bare bot at the same level,
  all its batches of that level pooled.
- CPU: user + system seconds of each process (and its children) during its server's batches,
  ÷ their messages. Memory: resident set size sampled every 0.2 s, peak.
- Cold start: launching the Rasa server to its health URL (`/`) answering, polled every 0.1 s;
  ours starts beside the portal and the action server.
"""


def run_line(data: Mapping[str, Any]) -> str:
    m, run = data["machine"], data["run"]
    levels = " and ".join(str(level) for level in run["concurrency"])
    return (
        f"Run of {m['date']} on commit {m['commit']}: {m['cpus']} CPUs, {m['memory_gb']} GB, "
        f"load average {m['load_average_at_start'][0]} at start, Python {m['python']}, "
        f"Rasa {m['rasa']}; {run['conversations']} conversations per scenario and level, "
        f"{levels} tenants at a time (`{run['command']}`)."
    )


def results_markdown(data: Mapping[str, Any], *, plot: str, raw: str) -> str:
    """``bench/RESULTS.md``: how it was measured, then every table, then the plot."""
    sections = [
        "# Speed benchmark: our stack against a bare Rasa (`make bench`)",
        INTRO,
        run_line(data),
        "## Goals\n\n" + goals_table(data["goals"]),
        "## Throughput and latency\n\n" + speed_table(data["rows"]),
        f"![msg/s and p95 per scenario, bare and ours]({plot})",
        "## CPU milliseconds per message\n\n" + cpu_table(data["rows"]),
        "## Memory\n\n" + memory_table(data["memory"]),
        "## Cold start\n\n" + cold_start_table(data["cold_start_s"]),
        f"Raw figures: [`{raw}`]({raw}).",
    ]
    return "\n\n".join(section.rstrip("\n") for section in sections) + "\n"


def cold_start_table(cold: Mapping[str, float]) -> str:
    lines = ["| Rasa server | launch to health, s |", "|---|---:|"]
    lines += [f"| {name} | {seconds:.1f} |" for name, seconds in cold.items()]
    return "\n".join(lines)
