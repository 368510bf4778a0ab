"""The run's figures as one JSON-ready record: rows, ratios to the bare bot, memory, goals.

The report, the plot and ``bench/results/speed.json`` are all written from this record, so the
three cannot disagree.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bench.speed.bare import rasa_version
from bench.speed.stats import Measure, pooled, ratio

ALL_TURNS = "all tenant turns"
MB = 1024 * 1024
# Issue 11's targets.
MIN_THROUGHPUT_RATIO = 0.9
MAX_P95_RATIO = 1.3
MAX_RSS_MB = 2048
MAX_COLD_START_S = 40.0


def finite(value: float, digits: int = 4) -> float | None:
    """JSON has no NaN: a figure that could not be measured is ``null``."""
    return None if math.isnan(value) else round(value, digits)


def row(measure: Measure, bare: Measure) -> dict[str, Any]:
    """One scenario at one level, with its ratios to the bare bot at the same level."""
    return {
        "scenario": measure.scenario,
        "server": measure.server,
        "concurrency": measure.concurrency,
        "conversations": measure.conversations,
        "failed": measure.failed,
        "messages": measure.messages,
        "msg_per_s": finite(measure.msg_per_s),
        "p50_ms": finite(measure.latency_ms(50), 1),
        "p95_ms": finite(measure.latency_ms(95), 1),
        "p99_ms": finite(measure.latency_ms(99), 1),
        "throughput_ratio": finite(ratio(measure.msg_per_s, bare.msg_per_s), 3),
        "p95_ratio": finite(ratio(measure.latency_ms(95), bare.latency_ms(95)), 3),
        "cpu_s_per_msg": {name: finite(s, 5) for name, s in measure.cpu_per_message().items()},
    }


def rows(measures: Sequence[Measure], bare_server: str = "bare") -> list[dict[str, Any]]:
    """Per level: the bare bot, each of our scenarios, then all our turns pooled."""
    out = []
    for level in dict.fromkeys(m.concurrency for m in measures):
        here = [m for m in measures if m.concurrency == level]
        bare = next(m for m in here if m.server == bare_server)
        ours = [m for m in here if m.server != bare_server]
        out += [row(m, bare) for m in [bare, *ours]]
        if ours:
            out.append(row(pooled(ALL_TURNS, ours), bare))
    return out


def memory(peaks: Mapping[str, int], ours_peak: int, all_peak: int) -> dict[str, Any]:
    """Peak RSS per process and the peak of the totals, in MiB."""
    return {
        "peak_rss_mb": {name: round(value / MB, 1) for name, value in peaks.items()},
        "ours_total_peak_mb": round(ours_peak / MB, 1),
        "all_total_peak_mb": round(all_peak / MB, 1),
    }


def goal(name: str, value: float | None, target: str, met: bool | None) -> dict[str, Any]:
    return {"goal": name, "value": value, "target": target, "met": met}


def goals(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each target of issue 11 with the figure measured against it."""
    out = []
    for r in data["rows"]:
        if r["scenario"] != ALL_TURNS:
            continue
        level, tput, p95 = r["concurrency"], r["throughput_ratio"], r["p95_ratio"]
        name = f"a tenant's turn, {level} at a time"
        met_tput = None if tput is None else tput >= MIN_THROUGHPUT_RATIO
        met_p95 = None if p95 is None else p95 <= MAX_P95_RATIO
        out.append(goal(f"{name}: msg/s ÷ bare", tput, f"≥ {MIN_THROUGHPUT_RATIO}", met_tput))
        out.append(goal(f"{name}: p95 ÷ bare p95", p95, f"≤ {MAX_P95_RATIO}", met_p95))
    total = data["memory"]["ours_total_peak_mb"]
    rss_name = "peak RSS of our processes together, MiB"
    out.append(goal(rss_name, total, f"< {MAX_RSS_MB}", total < MAX_RSS_MB))
    for server, seconds in data["cold_start_s"].items():
        target = f"< {MAX_COLD_START_S:.0f}"
        out.append(goal(f"cold start ({server}), s", seconds, target, seconds < MAX_COLD_START_S))
    return out


def git_commit() -> str | None:
    """The commit measured, ``+`` when the work tree differs from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+" if dirty.stdout.strip() else "")


def machine() -> dict[str, Any]:
    """Where and when: the figures only compare within one run on one machine."""
    import psutil

    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "platform": platform.platform(),
        "python": platform.python_version(),
        "rasa": rasa_version(),
        "commit": git_commit(),
    }


def record(
    *,
    measures: Sequence[Measure],
    run: Mapping[str, Any],
    machine_info: Mapping[str, Any],
    cold_start_s: Mapping[str, float],
    memory_info: Mapping[str, Any],
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "machine": dict(machine_info),
        "run": dict(run),
        "cold_start_s": {name: round(s, 1) for name, s in cold_start_s.items()},
        "rows": rows(measures),
        "memory": dict(memory_info),
    }
    data["goals"] = goals(data)
    return data


def write_json(data: Mapping[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
