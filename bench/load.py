"""Load benchmark: the assistant's own flows against a pure-Rasa baseline, side by side.

Starts the whole stack on free loopback ports (like the end-to-end tests), then measures, in the
same run and on the same server:

* baseline: "bonjour" answered by a rule with a static response (NLU + policies only);
* question: four questions of the help page ("quels jours pour le prélèvement ?"), each answered
  by the ResponseSelector's pick, with no verification and no action server;
* verification start: "je veux payer mon loyer", which asks for the verification first (an
  action calling the portal, then the verification form): what each of those questions cost
  before issue 10, when they started a verification;
* registration: a full register conversation (4 turns: form, custom validators on the action
  server, portal call, outbox insert).

Each is measured with 1 and with N concurrent tenants. Reported: per-message latency p50/p95,
messages per second, and the ratio to the baseline. Bounded: a fixed number of conversations.

    .venv/bin/python -m bench.load [--conversations 40] [--concurrency 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from bot.runner.ports import free_port
from bot.runner.stack import Stack
from bot.settings import Settings

REGISTRATION = ("je veux m'inscrire", "12345678", "Martin", "{sender}@example.org")
BASELINE = ("bonjour",)
QUESTIONS = (
    "quels jours pour le prélèvement ?",
    "je peux payer par carte ?",
    "où envoyer le mandat signé ?",
    "combien de temps pour valider mon assurance ?",
)
VERIFICATION_START = ("je veux payer mon loyer",)


@dataclass
class Result:
    name: str
    concurrency: int
    latencies: list[float]
    wall: float

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) * 1000

    @property
    def p95(self) -> float:
        return statistics.quantiles(self.latencies, n=20)[18] * 1000

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.wall


async def conversation(client: httpx.AsyncClient, url: str, turns: Sequence[str]) -> list[float]:
    sender = f"bench-{uuid.uuid4().hex[:10]}"
    latencies = []
    for turn in turns:
        started = time.perf_counter()
        response = await client.post(
            url, json={"sender": sender, "message": turn.format(sender=sender)}
        )
        response.raise_for_status()
        if not response.json():
            raise RuntimeError(f"no reply to {turn!r}")
        latencies.append(time.perf_counter() - started)
    return latencies


async def measure(
    name: str, url: str, turns: Sequence[str], *, conversations: int, concurrency: int
) -> Result:
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=120) as client:

        async def one() -> list[float]:
            async with gate:
                return await conversation(client, url, turns)

        started = time.perf_counter()
        runs = await asyncio.gather(*(one() for _ in range(conversations)))
        wall = time.perf_counter() - started
    return Result(name, concurrency, [latency for run in runs for latency in run], wall)


def report(results: list[Result]) -> str:
    baselines = {r.concurrency: r for r in results if r.name == "baseline"}
    lines = [
        "| scenario | tenants | messages | p50 ms | p95 ms | msg/s | p50 vs baseline |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ratio = r.p50 / baselines[r.concurrency].p50
        lines.append(
            f"| {r.name} | {r.concurrency} | {len(r.latencies)} | {r.p50:.0f} | {r.p95:.0f} "
            f"| {r.throughput:.1f} | x{ratio:.2f} |"
        )
    return "\n".join(lines)


async def run_all(url: str, conversations: int, concurrency: int) -> list[Result]:
    await measure("warm-up", url, REGISTRATION, conversations=2, concurrency=1)
    results = []
    for level in (1, concurrency):
        count = conversations if level > 1 else max(conversations // 4, 5)
        results.append(
            await measure("baseline", url, BASELINE * 4, conversations=count, concurrency=level)
        )
        results.append(
            await measure("question", url, QUESTIONS, conversations=count, concurrency=level)
        )
        results.append(
            await measure(
                "verification start",
                url,
                VERIFICATION_START,
                conversations=count * 4,
                concurrency=level,
            )
        )
        results.append(
            await measure("registration", url, REGISTRATION, conversations=count, concurrency=level)
        )
    return results


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path("bench/RESULTS.md"))
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as var_dir:
        settings = Settings().with_overrides(
            var_dir=Path(var_dir),
            portal_port=free_port(),
            rasa_port=free_port(),
            actions_port=free_port(),
            smtp_port=free_port(),
            # A benchmark hammers one client number on purpose: no rate limit here.
            rate_limit_per_conversation=10**6,
            rate_limit_per_client_number=10**6,
        )
        with Stack(settings, train=False, echo=lambda *_: None):
            url = f"http://127.0.0.1:{settings.rasa_port}/webhooks/rest/webhook"
            results = asyncio.run(run_all(url, args.conversations, args.concurrency))
    table = report(results)
    print(table)
    args.out.write_text(
        "# Load benchmark (`make bench`)\n\n"
        "Same run, same server: a rule with a static reply (baseline); questions of the help "
        "page, answered with no verification; the start of a request that needs the "
        "verification (what those questions cost before); a full registration conversation "
        "through the action server and the portal.\n\n" + table + "\n"
    )


if __name__ == "__main__":
    main()
