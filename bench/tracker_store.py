"""The tracker store's share of a turn, Rasa's ``SQLTrackerStore`` against ours, side by side.

``python -m bench.tracker_store`` replays recorded conversations (``fixtures/
conversations.jsonl``: twelve conversations of the conversation bench, demo households,
already redacted) turn by turn, as Rasa's server does for each message: the tracker read
from the store, the turn's events added, the tracker saved. Each round plays them once on
Rasa's store (Rasa's event-class lookup) and once on ``PooledSQLTrackerStore`` (the lookup
table of ``bot.runner.rasa_speedups``), each on a fresh SQLite file; the figures are the best
round of each, milliseconds of wall clock and of CPU per turn. The masking of events, the
same in both, is left out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event

from bot.dialogue.sql_tracker_store import PooledSQLTrackerStore
from bot.runner import rasa_speedups
from bot.settings import PROJECT_ROOT

FIXTURE = Path(__file__).parent / "fixtures" / "conversations.jsonl"
Turns = list[list[dict[str, Any]]]


def conversations(path: Path = FIXTURE) -> list[Turns]:
    """Each recorded conversation cut into turns, a turn starting at each user message."""
    cut: list[Turns] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        turns: Turns = [[]]
        for event in json.loads(line):
            if event["event"] == "user" and turns[-1]:
                turns.append([])
            turns[-1].append(event)
        cut.append(turns)
    return cut


@contextmanager
def event_lookup(ours: bool) -> Any:
    """Our lookup table of event classes in place for the block, or Rasa's walk."""
    saved = vars(Event)["resolve_by_type"]
    if ours:
        Event.resolve_by_type = staticmethod(rasa_speedups.resolve_event_type)
    try:
        yield
    finally:
        Event.resolve_by_type = saved


async def play(store: SQLTrackerStore, recorded: list[Turns]) -> tuple[float, float, int]:
    """Seconds of wall clock and of CPU the store took over every turn, and the turns."""
    wall = cpu = 0.0
    played = 0
    for number, turns in enumerate(recorded):
        sender = f"bench-{number}"
        for events in turns:
            new = [Event.from_parameters(event) for event in events]  # the turn's own work
            started, started_cpu = time.perf_counter(), time.process_time()
            tracker = await store.retrieve(sender) or store.init_tracker(sender)
            for event in new:
                tracker.update(event)
            await store.save(tracker)
            wall += time.perf_counter() - started
            cpu += time.process_time() - started_cpu
            played += 1
    return wall, cpu, played


def measure(make: Callable[[Path], SQLTrackerStore], ours: bool, recorded: list[Turns]) -> dict:
    with tempfile.TemporaryDirectory() as directory, event_lookup(ours):
        wall, cpu, turns = asyncio.run(play(make(Path(directory) / "tracker.db"), recorded))
    return {"wall_ms": 1000 * wall / turns, "cpu_ms": 1000 * cpu / turns, "turns": turns}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    domain = Domain.load(PROJECT_ROOT / "domain.yml")
    recorded = conversations()
    stores: dict[str, tuple[Callable[[Path], SQLTrackerStore], bool]] = {
        "Rasa's SQLTrackerStore": (
            lambda path: SQLTrackerStore(domain=domain, dialect="sqlite", db=str(path)),
            False,
        ),
        "PooledSQLTrackerStore": (
            lambda path: PooledSQLTrackerStore(domain=domain, dialect="sqlite", db=str(path)),
            True,
        ),
    }
    rounds: dict[str, list[dict]] = {name: [] for name in stores}
    for _ in range(args.rounds):  # alternating, so that a busier minute weighs on both
        for name, (make, ours) in stores.items():
            rounds[name].append(measure(make, ours, recorded))
    best = {name: min(results, key=lambda r: r["cpu_ms"]) for name, results in rounds.items()}
    before, after = best["Rasa's SQLTrackerStore"], best["PooledSQLTrackerStore"]
    print(f"{before['turns']} turns of {len(recorded)} conversations, best of {args.rounds}:")
    print("| store | wall ms per turn | CPU ms per turn |")
    print("|---|---:|---:|")
    for name, result in best.items():
        print(f"| {name} | {result['wall_ms']:.2f} | {result['cpu_ms']:.2f} |")
    print(
        f"| ratio | ×{after['wall_ms'] / before['wall_ms']:.2f} "
        f"| ×{after['cpu_ms'] / before['cpu_ms']:.2f} |"
    )


if __name__ == "__main__":
    main()
