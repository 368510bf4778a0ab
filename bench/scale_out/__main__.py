"""``python -m bench.scale_out``: the embedded stack and 1 and 2 Rasa servers behind nginx.

Writes ``bench/results/scale_out.json`` and ``bench/SCALE_OUT.md`` and prints the same tables.
Exit status 1 when a conversation went elsewhere than its scenario says (its figures would not
be those of the flows named).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import sys
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

from bench.conversations.report import failures
from bench.conversations.responses import ResponseCatalog
from bench.conversations.scenarios import Scenario
from bench.scale_out.logs import log_problems
from bench.scale_out.processes import Watched
from bench.scale_out.report import results_markdown, tables
from bench.scale_out.results import EMBEDDED, ONE_SERVER, TWO_SERVERS, record
from bench.scale_out.schedule import Load, Schedule, Target
from bench.scale_out.stacks import ProductionServer, production_stack
from bench.scale_out.tenants import SourceAddresses, TimedTenantLive
from bench.speed.play import TimedLive
from bench.speed.results import machine, write_json
from bench.speed.scenarios import our_scenarios
from bench.speed.servers import Server, our_stack
from bot.settings import PROJECT_ROOT

BENCH_DIR = Path(__file__).resolve().parent.parent
SHOWN_FAILURES = 3
#: ours.yml's flows that stay on this machine: in production a payment goes to the platform.
FLOWS = ("registration", "recovery", "help page", "verified balance")


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_out", description=__doc__)
    parser.add_argument(
        "--concurrency", type=int, nargs="+", default=[10, 30], help="tenants at a time (10 30)"
    )
    parser.add_argument(
        "--conversations",
        type=int,
        default=240,
        help="per batch, the scenarios in turn (240: 780 messages, 20 to 30 s on 2 cores)",
    )
    parser.add_argument("--rounds", type=int, default=2, help="batches per stack and level (2)")
    parser.add_argument("--results", type=Path, default=BENCH_DIR / "results")
    parser.add_argument("--markdown", type=Path, default=BENCH_DIR / "SCALE_OUT.md")
    parser.add_argument(
        "--var-dir",
        type=Path,
        default=PROJECT_ROOT / "var" / "bench" / "scale-out",
        help="the production stacks' var directories, logs kept until the next run",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="write the Markdown again from the JSON of the last run, measuring nothing",
    )
    args = parser.parse_args(argv)
    # What the report says was run: this command, options as given.
    given = sys.argv[1:] if argv is None else argv
    args.command = shlex.join(["python", "-m", "bench.scale_out", *given])
    return args


def flows() -> list[Scenario]:
    chosen = [scenario for scenario in our_scenarios() if scenario.name in FLOWS]
    if len(chosen) != len(FLOWS):
        sys.exit(f"bench/speed/scenarios/ours.yml lacks one of {FLOWS}")
    return chosen


def embedded_target(server: Server, http: httpx.AsyncClient) -> Target:
    live = TimedLive(server.rasa_url, server.portal_url, http, database_url=server.database_url)
    return Target(EMBEDDED, live, server.pids)


def production_target(
    name: str, server: ProductionServer, http: httpx.AsyncClient, addresses: SourceAddresses
) -> Target:
    live = TimedTenantLive(
        server.rasa_url,
        server.portal_url,
        http,
        database_url=server.database_url,
        token=server.token,
        maildir=server.maildir,
        addresses=addresses,
    )
    return Target(name, live, server.pids, server.rasa_backends, server.metrics_token)


async def measure(
    args: argparse.Namespace, embedded: Server, production: dict[str, ProductionServer]
) -> tuple[list[Load], Schedule]:
    catalog = ResponseCatalog.from_project(PROJECT_ROOT)
    addresses = SourceAddresses()
    # trust_env=False: a proxy from the environment must not stand between us and loopback.
    async with httpx.AsyncClient(timeout=120, trust_env=False) as http:
        try:
            targets = [embedded_target(embedded, http)] + [
                production_target(name, server, http, addresses)
                for name, server in production.items()
            ]
            schedule = Schedule(targets, catalog, Watched(), http, args.conversations, args.rounds)
            loads = await schedule.run(flows(), args.concurrency)
        finally:
            await addresses.aclose()
    return loads, schedule


def var_dir(args: argparse.Namespace, name: str) -> Path:
    return args.var_dir / name.replace(" ", "-")


def run(args: argparse.Namespace) -> tuple[dict[str, Any], Schedule]:
    machine_info = machine()
    with ExitStack() as started:
        embedded = started.enter_context(our_stack())
        print(f"Embedded stack up in {embedded.cold_start:.1f} s", file=sys.stderr)
        production: dict[str, ProductionServer] = {}
        for name, count in ((ONE_SERVER, 1), (TWO_SERVERS, 2)):
            server = started.enter_context(production_stack(name, count, var_dir(args, name)))
            production[name] = server
            print(f"Production, {name}, up in {server.cold_start:.1f} s", file=sys.stderr)
        loads, schedule = asyncio.run(measure(args, embedded, production))
        # Read while the stacks still run: their shutdown is not what was measured.
        problems = {name: log_problems(var_dir(args, name)) for name in production}
    cold = {EMBEDDED: embedded.cold_start} | {n: s.cold_start for n, s in production.items()}
    context = {
        "machine": machine_info,
        "run": run_info(args),
        "cold_start_s": {name: round(seconds, 1) for name, seconds in cold.items()},
        "log_problems": problems,
    }
    return record(loads, context), schedule


def run_info(args: argparse.Namespace) -> dict[str, Any]:
    """What was asked of the run, as the report states it."""
    return {
        "concurrency": args.concurrency,
        "conversations": args.conversations,
        "rounds": args.rounds,
        "flows": list(FLOWS),
        "command": args.command,
    }


def write_markdown(data: Mapping[str, Any], raw: Path, markdown: Path) -> None:
    # The link relative to the Markdown file, so it works on the forge as in a checkout.
    markdown.write_text(results_markdown(data, raw=os.path.relpath(raw, markdown.parent)))
    print(tables(data))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    raw = args.results / "scale_out.json"
    if args.report_only:
        write_markdown(json.loads(raw.read_text()), raw, args.markdown)
        return 0
    data, schedule = run(args)
    write_json(data, raw)
    write_markdown(data, raw, args.markdown)
    failed = [outcome for outcomes in schedule.failures.values() for outcome in outcomes]
    if failed:
        print(f"\n{len(failed)} conversation(s) failed; the first:", file=sys.stderr)
        print(failures(failed[:SHOWN_FAILURES]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
