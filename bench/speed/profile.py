"""py-spy on our Rasa server while the bench plays (``--profile``): a flame graph, top entries.

py-spy samples the running process from outside, 50 times a second, from the moment our stack
answers until the last conversation: the profile is that of tenants' turns, not of the start-up.
It pauses the process for each sample (a few microseconds): without that, py-spy cannot tell a
server waiting for messages from one at work, and the idle event loop fills half the graph.
It writes an SVG flame graph and, beside it, the same samples as folded stacks (one line per
distinct stack, ``frame;frame;… count``), which :func:`top_entries` reads to rank functions
by their share of the samples.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SAMPLES_PER_SECOND = 50
SHARED_BY_ALL = 0.99


def py_spy() -> str:
    """The py-spy of this virtualenv (pinned in requirements.lock)."""
    return str(Path(sys.executable).with_name("py-spy"))


@contextmanager
def profiled(pid: int, flame_graph: Path, folded: Path) -> Iterator[None]:
    """Record ``pid`` until the block ends: an SVG at ``flame_graph``, stacks at ``folded``."""
    flame_graph.parent.mkdir(parents=True, exist_ok=True)
    folded.parent.mkdir(parents=True, exist_ok=True)
    recorders = [
        subprocess.Popen(
            [
                py_spy(),
                "record",
                "--pid",
                str(pid),
                "--rate",
                str(SAMPLES_PER_SECOND),
                "--nolineno",
                "--format",
                output_format,
                "--output",
                str(output),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for output_format, output in (("flamegraph", flame_graph), ("raw", folded))
    ]
    try:
        yield
    finally:
        for recorder in recorders:  # py-spy writes its output when interrupted
            recorder.send_signal(signal.SIGINT)
        for recorder in recorders:
            recorder.wait(timeout=120)


@dataclass(frozen=True)
class Entry:
    """A function and the share of samples in which it runs (inclusive) or is on top (self)."""

    function: str
    inclusive: float
    own: float


def frame_name(frame: str) -> str:
    """``handle_message (rasa/core/processor.py)`` from py-spy's ``handle_message (/…/site-
    packages/rasa/core/processor.py)``: the path from the package on."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")").split("site-packages/")[-1]
    path, _, line = where.rpartition(":")
    if line.isdigit():  # recorded with line numbers
        where = path
    if where.startswith("/"):
        where = where.rsplit("/", 2)[-2] + "/" + where.rsplit("/", 1)[-1]
    return f"{name} ({where})" if where else name


def top_entries(folded: Path, limit: int = 60) -> list[Entry]:
    """The ``limit`` functions present in most samples, a function counted once per sample."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in folded.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = [frame_name(frame) for frame in stack.split(";")]
        for function in set(frames):
            inclusive[function] += samples
        own[frames[-1]] += samples
    if not total:
        return []
    return [
        Entry(function, inclusive=samples / total, own=own[function] / total)
        for function, samples in inclusive.most_common(limit)
    ]


def entries_markdown(entries: list[Entry]) -> str:
    """A Markdown table of :func:`top_entries`, without the frames (nearly) every sample shares
    (the interpreter, the web server): they say nothing about where the time goes."""
    lines = ["| function | samples in it | samples on top |", "|---|---:|---:|"]
    for entry in entries:
        if entry.inclusive < SHARED_BY_ALL:
            lines.append(f"| `{entry.function}` | {entry.inclusive:.1%} | {entry.own:.1%} |")
    return "\n".join(lines) + "\n"


def write_entries(folded: Path, markdown: Path, command: str) -> None:
    """The top entries of ``folded`` as a Markdown page beside the flame graph."""
    markdown.write_text(
        "# Where our Rasa server spends its CPU during tenants' turns\n\n"
        f"py-spy during `{command}`; flame graph: [rasa-turns.svg](rasa-turns.svg). A function's\n"
        "share counts the samples in which it runs, itself or through what it calls (*in it*),\n"
        "and those in which it is the innermost Python frame (*on top*).\n\n"
        f"{entries_markdown(top_entries(folded))}"
    )
