"""The production topology started for the bench, beside the embedded default.

Each production stack gets free ports, a var directory, two PostgreSQL databases and a Redis
key prefix of its own, removed again however the run ends (Ctrl-C included). Its var directory
is kept until the next run: the logs are where a failed reply is explained.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

from bench.speed.servers import Server, cold_start, quiet
from bench.stack_settings import UNLIMITED
from bot.runner.databases import PostgresServer, drop_databases
from bot.runner.production import Topology
from bot.runner.production_stack import ProductionStack
from bot.runner.stack import run_async
from bot.runner.training import has_model
from bot.settings import PROJECT_ROOT

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/0"
#: Several Rasa servers load the model at once on shared cores.
START_TIMEOUT = 300.0
#: What a bench does on purpose (many verifications and e-mails a quarter of an hour), as
#: ``bench_settings`` allows the embedded stack; ``Settings.from_env`` reads them and
#: ``child_env`` hands them on to every child.
RAISED_LIMITS = {
    name: str(UNLIMITED)
    for name in (
        "RATE_LIMIT_PER_CONVERSATION",
        "RATE_LIMIT_PER_CLIENT_NUMBER",
        "MAIL_LIMIT_PER_QUARTER_HOUR",
        "MAIL_LIMIT_PER_DAY",
    )
}


@dataclass(frozen=True)
class ProductionServer(Server):
    """A production stack as the bench reaches it: nginx's Rasa entry and what else it needs."""

    token: str = ""
    metrics_token: str = ""
    maildir: Path = Path()
    log_dir: Path = Path()
    rasa_backends: tuple[str, ...] = ()


def bench_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """The operator's environment without its public URLs (this stack's own apply), with the
    bench's limits."""
    kept = {k: v for k, v in environ.items() if k not in ("PORTAL_PUBLIC_URL", "RASA_PUBLIC_URL")}
    return {**kept, **RAISED_LIMITS}


def topology(name: str, rasa_servers: int, var_dir: Path) -> Topology:
    """Free ports; two portals and two action servers as in production, ``rasa_servers`` Rasa."""
    slug = "".join(char for char in name if char.isalnum())
    unique = f"{slug}{os.getpid()}{secrets.token_hex(3)}"
    return Topology.on_free_ports(
        var_dir,
        rasa_servers=rasa_servers,
        postgres=PostgresServer.from_url(POSTGRES_URL),
        portal_database=f"bench_portal_{unique}",
        tracker_database=f"bench_tracker_{unique}",
        redis_url=REDIS_URL,
        redis_prefix=f"bench{unique}",
    )


def remove_data(topology: Topology) -> None:
    """Drop the stack's databases and delete its Redis keys."""
    names = [topology.portal_database, topology.tracker_database]
    run_async(lambda: drop_databases(topology.postgres, names))
    keys = redis.Redis.from_url(topology.redis_url)
    try:
        for key in keys.scan_iter(f"{topology.redis_prefix}*"):
            keys.delete(key)
    finally:
        keys.close()


@contextmanager
def production_stack(name: str, rasa_servers: int, var_dir: Path) -> Iterator[ProductionServer]:
    """nginx, the relay, 2 portals, 2 action servers and ``rasa_servers`` Rasa servers."""
    if not has_model(PROJECT_ROOT):
        sys.exit("No trained model in models/: run `make train` first.")
    shutil.rmtree(var_dir, ignore_errors=True)  # the previous run's logs and secrets
    where = topology(name, rasa_servers, var_dir)
    stack = ProductionStack(
        where, environ=bench_environ(os.environ), rasa_timeout=START_TIMEOUT, echo=quiet
    )
    try:
        with stack:
            assert stack.supervisor is not None
            yield ProductionServer(
                rasa_url=where.rasa_entry,
                pids={p.name: p.pid for p in stack.supervisor.processes},
                cold_start=cold_start(stack.supervisor, "rasa-1"),
                portal_url=where.portal_entry,
                database_url=where.postgres.asyncpg_url(where.portal_database),
                token=stack.shared["REST_CHANNEL_TOKEN"],
                # production_env generates the scraper's token (bot/observability/metrics.py).
                metrics_token=stack.shared["METRICS_TOKEN"],
                maildir=where.var_dir / "mailbox",
                log_dir=where.log_dir,
                rasa_backends=tuple(f"http://127.0.0.1:{port}" for port in where.rasa_ports),
            )
    finally:
        remove_data(where)
