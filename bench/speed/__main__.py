"""``python -m bench.speed``: our stack against a bare ``rasa init`` bot, same run, interleaved.

Writes ``bench/results/speed.json``, ``bench/results/speed.png`` and ``bench/RESULTS.md``, and
prints the same tables. Exit status 1 when a conversation went elsewhere than its scenario says
(its figures would not be those of the flow named).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.conversations.report import failures
from bench.conversations.responses import ResponseCatalog
from bench.speed.play import TimedLive
from bench.speed.plot import write_plot
from bench.speed.processes import RssSampler
from bench.speed.profile import profiled, write_entries
from bench.speed.report import results_markdown, tables
from bench.speed.results import machine, memory, record, write_json
from bench.speed.scenarios import bare_scenario, our_scenarios
from bench.speed.schedule import Schedule, Side
from bench.speed.servers import Server, bare_server, our_stack
from bench.speed.stats import Measure
from bot.settings import PROJECT_ROOT

BENCH_DIR = Path(__file__).resolve().parent.parent
SHOWN_FAILURES = 3


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.speed", description=__doc__)
    parser.add_argument("--conversations", type=int, default=16, help="per scenario and level (16)")
    parser.add_argument(
        "--concurrency", type=int, nargs="+", default=[1, 10], help="tenants at a time (1 10)"
    )
    parser.add_argument("--results", type=Path, default=BENCH_DIR / "results")
    parser.add_argument("--markdown", type=Path, default=BENCH_DIR / "RESULTS.md")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="py-spy on our Rasa server while measuring: DIR/rasa-turns.svg and .md",
    )
    args = parser.parse_args(argv)
    given = sys.argv[1:] if argv is None else list(argv)
    args.command = shlex.join(["python", "-m", "bench.speed", *given])
    return args


async def measure(
    args: argparse.Namespace, bare: Server, ours: Server
) -> tuple[list[Measure], Schedule]:
    catalog = ResponseCatalog.from_project(PROJECT_ROOT)
    # trust_env=False: a proxy from the environment must not stand between us and loopback.
    async with httpx.AsyncClient(timeout=120, trust_env=False) as http:
        schedule = Schedule(
            bare=Side("bare", TimedLive(bare.rasa_url, "", http), bare.pids),
            ours=Side(
                "ours",
                TimedLive(ours.rasa_url, ours.portal_url, http, database_url=ours.database_url),
                ours.pids,
            ),
            catalog=catalog,
            conversations=args.conversations,
        )
        measures = await schedule.run(bare_scenario(), our_scenarios(), args.concurrency)
    return measures, schedule


FOLDED = PROJECT_ROOT / "var" / "bench" / "rasa-turns.folded"


@contextmanager
def maybe_profiled(directory: Path | None, pid: int, command: str) -> Iterator[None]:
    """py-spy on ``pid`` while the block runs, when ``--profile`` asks for it."""
    if directory is None:
        yield
        return
    with profiled(pid, directory / "rasa-turns.svg", FOLDED):
        yield
    write_entries(FOLDED, directory / "rasa-turns.md", command)


def run(args: argparse.Namespace) -> tuple[dict[str, Any], Schedule]:
    machine_info = machine()
    with bare_server() as bare:
        print(f"Bare Rasa up in {bare.cold_start:.1f} s; starting ours…", file=sys.stderr)
        with our_stack() as ours:
            print(f"Our stack up in {ours.cold_start:.1f} s; measuring…", file=sys.stderr)
            pids = {**bare.pids, **ours.pids}
            with (
                RssSampler(pids) as sampler,
                maybe_profiled(args.profile, ours.pids["rasa"], args.command),
            ):
                measures, schedule = asyncio.run(measure(args, bare, ours))
    data = record(
        measures=measures,
        run={
            "conversations": args.conversations,
            "concurrency": args.concurrency,
            "command": args.command,
        },
        machine_info=machine_info,
        cold_start_s={"bare": bare.cold_start, "ours": ours.cold_start},
        memory_info=memory(
            sampler.peaks, sampler.peak_sum(list(ours.pids)), sampler.peak_sum(list(pids))
        ),
    )
    return data, schedule


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    data, schedule = run(args)
    raw, plot = args.results / "speed.json", args.results / "speed.png"
    write_json(data, raw)
    write_plot(data["rows"], plot)
    # Links relative to the Markdown file, so they work on the forge as in a checkout.
    base = args.markdown.parent
    markdown = results_markdown(
        data, plot=os.path.relpath(plot, base), raw=os.path.relpath(raw, base)
    )
    args.markdown.write_text(markdown)
    print(tables(data))
    if schedule.failures:
        shown = schedule.failures[:SHOWN_FAILURES]
        print(f"\n{len(schedule.failures)} conversation(s) failed; the first:", file=sys.stderr)
        print(failures(shown), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
