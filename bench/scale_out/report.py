"""Markdown of the run's record, for the terminal and for ``bench/SCALE_OUT.md``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bench.scale_out.limits import paragraphs
from bench.scale_out.results import KINDS
from bench.speed.report import cold_start_table, goals_table, number, times

Row = Mapping[str, Any]

#: The speed table's columns: header, and the cell of a row.
SPEED_COLUMNS: tuple[tuple[str, Callable[[Row], str]], ...] = (
    ("topology", lambda r: r["topology"]),
    ("tenants at a time", lambda r: str(r["concurrency"])),
    ("conversations", lambda r: str(r["conversations"])),
    ("failed", lambda r: str(r["failed"])),
    ("messages", lambda r: str(r["messages"])),
    ("msg/s", lambda r: number(r["msg_per_s"])),
    ("p50 ms", lambda r: number(r["p50_ms"], 0)),
    ("p95 ms", lambda r: number(r["p95_ms"], 0)),
    ("p99 ms", lambda r: number(r["p99_ms"], 0)),
    ("waiting", lambda r: number(r["in_flight"])),
    ("msg/s ÷ embedded", lambda r: times(r["vs_embedded"])),
    ("p95 ÷ embedded", lambda r: times(r["p95_vs_embedded"])),
    ("2 servers ÷ 1 server", lambda r: times(r["vs_one_server"])),
)


def markdown_row(cells: Sequence[str]) -> str:
    return f"| {' | '.join(cells)} |"


def speed_table(rows: Sequence[Row]) -> str:
    """Text first, figures right-aligned."""
    lines = [
        markdown_row([header for header, _ in SPEED_COLUMNS]),
        "|---|" + "---:|" * (len(SPEED_COLUMNS) - 1),
    ]
    lines += [markdown_row([cell(r) for _, cell in SPEED_COLUMNS]) for r in rows]
    return "\n".join(lines)


def kinds_in(rows: Sequence[Mapping[str, Any]], key: str) -> list[str]:
    """The columns some row has a figure for, in ``KINDS`` order."""
    present = {name for r in rows for name in r[key]}
    return [name for name in KINDS if name in present]


def per_kind_table(
    rows: Sequence[Mapping[str, Any]], key: str, total: str, digits: int, title: str
) -> str:
    """One column per kind of process and one for the whole machine."""
    kinds = kinds_in(rows, key)
    lines = [
        f"| topology | tenants at a time | {' | '.join(kinds)} | {title} |",
        "|---|---:|" + "---:|" * (len(kinds) + 1),
    ]
    for r in rows:
        cells = [number(r[key].get(name), digits) if name in r[key] else "" for name in kinds]
        lines.append(
            f"| {r['topology']} | {r['concurrency']} | {' | '.join(cells)} "
            f"| {number(r[total], digits)} |"
        )
    return "\n".join(lines)


def cpu_table(rows: Sequence[Mapping[str, Any]]) -> str:
    return per_kind_table(rows, "cpu_ms_per_msg", "machine_ms_per_msg", 1, "machine")


def cores_table(rows: Sequence[Mapping[str, Any]]) -> str:
    return per_kind_table(rows, "cores", "machine_cores", 2, "machine")


def turns_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """How nginx spread the turns over the Rasa servers (their ``/metrics``)."""
    lines = ["| topology | tenants at a time | turns per Rasa server |", "|---|---:|---|"]
    for r in rows:
        if r["rasa_turns"]:
            turns = ", ".join(f"{name} {count:.0f}" for name, count in r["rasa_turns"].items())
            lines.append(f"| {r['topology']} | {r['concurrency']} | {turns} |")
    return "\n".join(lines)


def problems_section(problems: Mapping[str, Any]) -> str:
    """Errors and warnings in the production stacks' logs, or a line saying there were none."""
    if not any(problems.values()):
        return "No error, warning or 5xx reply in the production stacks' logs."
    lines = []
    for stack, files in problems.items():
        for name, found in files.items():
            counts = ", ".join(f"{found[k]} {k}" for k in ("errors", "warnings") if k in found)
            what = found.get("statuses") or "; ".join(f"`{s}`" for s in found["samples"])
            lines.append(f"- {stack}, `{name}`: {counts} — {what}")
    return "\n".join(lines)


def tables(data: Mapping[str, Any]) -> str:
    """Everything measured, as the terminal prints it."""
    cpus = data["machine"]["cpus"]
    return "\n\n".join(
        [
            speed_table(data["rows"]),
            "CPU ms per message:\n\n" + cpu_table(data["rows"]),
            "Cores busy:\n\n" + cores_table(data["rows"]),
            goals_table(data["goals"]),
            *paragraphs(data["rows"], cpus),
        ]
    )


INTRO = """\
`make bench-scale-out` (`python -m bench.scale_out`, issue 12). One run starts three stacks side
by side on free loopback ports and keeps them up together: the **embedded** default (`make run`:
SQLite, one portal, one action server, one Rasa server) and the production topology of
`make run-production` (nginx, an SMTP relay, two portals, two action servers, PostgreSQL, Redis)
with **1 server** and with **2 servers** of Rasa behind nginx. Each production stack has its own
databases and Redis prefix, removed at the end. At each level it plays a batch on the embedded
stack, then one on each production stack, so a busier minute of the machine weighs on all alike,
after one unmeasured conversation of each scenario on every Rasa server.

- A batch mixes the speed bench's scenarios without payment (`bench/speed/scenarios/ours.yml`),
  each reply checked as in `make conversations`, each conversation with a household of its own.
  Through nginx each conversation comes from its own loopback address (127.0.0.2 to .254), as
  tenants do: nginx keeps one client address on one Rasa server (`hash $remote_addr`).
- Latency: one message, from the REST request to its reply. msg/s: messages ÷ the time at least
  one message was waiting for its reply. *waiting*: messages waiting for their reply on average
  (near the number of tenants: they queue at the servers). Ratios are side by side in this run.
- CPU: user + system seconds during the batches of each process kind (its children included;
  PostgreSQL: the server's backends, finished ones too), ÷ messages; cores: ÷ the batches'
  wall-clock time. *machine*: all the machine's busy time; *other*: what no process here
  explains (the idle stacks' timers, the system). The embedded stack's SMTP sink runs inside
  the bench client; its dev mailbox is read by its portal, a production one by the bench.
"""


def run_line(data: Mapping[str, Any]) -> str:
    """When, where and how much: the figures compare only within this run."""
    m, run = data["machine"], data["run"]
    where = [
        f"{m['cpus']} CPUs",
        f"{m['memory_gb']} GB",
        f"load average {m['load_average_at_start'][0]} at start",
        f"Python {m['python']}",
        f"Rasa {m['rasa']}",
    ]
    work = (
        f"{' and '.join(map(str, run['concurrency']))} tenants at a time, {run['rounds']} "
        f"batch(es) of {run['conversations']} conversations per stack and level"
    )
    when = f"Run of {m['date']} on commit {m['commit']}"
    return f"{when} ({', '.join(where)}): {work} (`{run['command']}`)."


def results_markdown(data: Mapping[str, Any], *, raw: str) -> str:
    """``bench/SCALE_OUT.md``: how it was measured, the goal, every table, what limits it."""
    rows, cpus = data["rows"], data["machine"]["cpus"]
    sections = [
        "# Scale-out benchmark: 1 and 2 Rasa servers behind nginx (`make bench-scale-out`)",
        INTRO,
        run_line(data),
        "## Goal\n\n" + goals_table(data["goals"]),
        "## Throughput and latency\n\n" + speed_table(rows),
        "## What limits it\n\n" + "\n\n".join(paragraphs(rows, cpus)),
        "## CPU milliseconds per message, per kind of process\n\n" + cpu_table(rows),
        "## Cores kept busy (CPU seconds ÷ wall-clock seconds)\n\n" + cores_table(rows),
        "## Turns per Rasa server\n\n" + turns_table(rows),
        "## Errors in the production stacks' logs\n\n" + problems_section(data["log_problems"]),
        "## Cold start\n\n" + cold_start_table(data["cold_start_s"]),
        f"Raw figures: [`{raw}`]({raw}).",
    ]
    return "\n\n".join(section.rstrip("\n") for section in sections) + "\n"
