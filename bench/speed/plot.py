"""``speed.png``: msg/s and p95 of each scenario at each level, the bare bot's bar first."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on a server; must precede pyplot

import matplotlib.pyplot as plt  # noqa: E402

BARE_COLOUR = "#9e9e9e"
OUR_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#17becf")


def bars(axis: Any, rows: Sequence[Mapping[str, Any]], key: str, title: str) -> None:
    """Grouped by level; one bar per scenario, bare in grey."""
    levels = list(dict.fromkeys(r["concurrency"] for r in rows))
    names = list(dict.fromkeys((r["server"], r["scenario"]) for r in rows))
    width = 0.8 / len(names)
    value = {(r["server"], r["scenario"], r["concurrency"]): r[key] or 0 for r in rows}
    for index, (server, scenario) in enumerate(names):
        values = [value.get((server, scenario, level), 0) for level in levels]
        colour = BARE_COLOUR if server == "bare" else OUR_COLOURS[index % len(OUR_COLOURS)]
        name = f"{scenario} (bare)" if server == "bare" else scenario
        positions = [
            level_index + (index - (len(names) - 1) / 2) * width
            for level_index in range(len(levels))
        ]
        axis.bar(positions, values, width, label=name, color=colour)
    axis.set_xticks(range(len(levels)))
    axis.set_xticklabels([f"{level} at a time" for level in levels])
    axis.set_title(title)
    axis.grid(axis="y", alpha=0.3)


def write_plot(rows: Sequence[Mapping[str, Any]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    bars(left, rows, "msg_per_s", "messages per second (higher is better)")
    bars(right, rows, "p95_ms", "p95 latency, ms (lower is better)")
    handles, labels = left.get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize="small")
    figure.tight_layout(rect=(0, 0.08, 1, 1))
    figure.savefig(path, dpi=100)
    plt.close(figure)
