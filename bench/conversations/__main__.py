"""``python -m bench.conversations``: run the conversation scenarios, print passes per category.

Without ``--rasa-url`` it starts the whole stack itself (portal, actions, Rasa, SMTP sink) on free
loopback ports with a temporary var directory, like the end-to-end tests; it needs a trained
model in models/. The per-address e-mail limits and the attempt limits are raised there, since
the bench verifies the same demo tenants many times in a quarter of an hour.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.conversations.live import Live
from bench.conversations.report import failures, table
from bench.conversations.responses import ResponseCatalog
from bench.conversations.runner import Outcome, run_all
from bench.conversations.scenarios import SCENARIO_DIR, Scenario, load_scenarios, select
from bench.stack_settings import bench_settings
from bot.settings import PROJECT_ROOT


@contextmanager
def own_stack() -> Iterator[tuple[str, str, str]]:
    """The whole system on free ports; yields the Rasa URL, the portal URL and its database."""
    from bot.runner.stack import Stack
    from bot.runner.training import has_model

    if not has_model(PROJECT_ROOT):
        sys.exit("No trained model in models/: run `make train` first.")
    with tempfile.TemporaryDirectory(prefix="conversations-") as var_dir:
        settings = bench_settings(Path(var_dir))
        print("Démarrage du portail, des actions et de Rasa…", file=sys.stderr, flush=True)
        with Stack(settings, train=False, echo=lambda *_: None):
            yield (
                f"http://127.0.0.1:{settings.rasa_port}",
                settings.portal_url,
                settings.resolved_database_url,
            )


async def bench(
    args: argparse.Namespace,
    scenarios: list[Scenario],
    rasa: str,
    portal: str,
    database: str | None,
) -> list[Outcome]:
    catalog = ResponseCatalog.from_project(PROJECT_ROOT)
    async with httpx.AsyncClient(timeout=120) as http:
        live = Live(rasa.rstrip("/"), portal.rstrip("/"), http, database_url=database)
        done = iter(range(1, len(scenarios) + 1))

        def progress(outcome: Outcome) -> None:
            verdict = "skipped" if outcome.skipped else "ok" if outcome.passed else "FAILED"
            name = f"{outcome.scenario.category}/{outcome.scenario.name}"
            print(f"[{next(done)}/{len(scenarios)}] {verdict} {name}", file=sys.stderr, flush=True)

        return await run_all(scenarios, live, catalog, parallel=args.parallel, progress=progress)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.conversations", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--only", action="append", metavar="CATEGORY", help="repeatable")
    parser.add_argument("-k", metavar="NAME", help="scenarios whose name contains NAME")
    parser.add_argument("--parallel", type=int, default=3, help="scenarios at a time (3)")
    parser.add_argument("--rasa-url", help="a running Rasa server (else the bench starts a stack)")
    parser.add_argument("--portal-url", default="http://127.0.0.1:8000")
    parser.add_argument(
        "--database-url", help="the running portal's database, for scenarios with a household"
    )
    parser.add_argument("--markdown", action="store_true", help="only the table, for the README")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a scenario fails")
    parser.add_argument("--scenarios", type=Path, default=SCENARIO_DIR)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    scenarios = select(load_scenarios(args.scenarios), only=args.only, keyword=args.k)
    if not scenarios:
        sys.exit(f"No scenario matches --only/-k in {args.scenarios}.")
    if args.rasa_url:
        urls = (args.rasa_url, args.portal_url, args.database_url)
        outcomes = asyncio.run(bench(args, scenarios, *urls))
    else:
        with own_stack() as (rasa, portal, database):
            outcomes = asyncio.run(bench(args, scenarios, rasa, portal, database))
    if not args.markdown:
        print(failures(outcomes))
        print()
    print(table(outcomes))
    failed = any(not o.passed and not o.skipped for o in outcomes)
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    sys.exit(main())
