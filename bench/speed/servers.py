"""The two servers under test, started side by side on free loopback ports.

Cold start is the time from launching the Rasa server to its health URL answering, polled every
0.1 s for both (our Rasa starts beside the portal and the action server, as in production).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.speed import bare
from bench.stack_settings import bench_settings
from bot.runner.ports import free_port
from bot.runner.process import ManagedProcess
from bot.runner.stack import Stack
from bot.runner.supervisor import Supervisor
from bot.runner.training import has_model
from bot.settings import PROJECT_ROOT

POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Server:
    """What the bench needs of a running server: where to talk, which processes to watch."""

    rasa_url: str
    pids: dict[str, int]
    cold_start: float
    portal_url: str = ""
    database_url: str | None = None


def quiet(*_: object) -> None:
    """The supervisor's progress lines would interleave with the bench's own."""


def cold_start(supervisor: Supervisor, name: str) -> float:
    """Seconds since ``name`` was launched; called right after every health check answered."""
    process: ManagedProcess = next(p for p in supervisor.processes if p.name == name)
    return time.monotonic() - process.started_at


@contextmanager
def bare_server() -> Iterator[Server]:
    """The ``rasa init`` bot, trained first if the cache under ``var/bench/bare`` is stale."""
    step = bare.prepare()
    print(f"Bare rasa init bot: {step.value} ({bare.BARE_DIR})", file=sys.stderr, flush=True)
    port = free_port()
    spec = bare.server_spec(port)
    with Supervisor([spec], poll_interval=POLL_SECONDS, echo=quiet) as supervisor:
        yield Server(
            rasa_url=f"http://127.0.0.1:{port}",
            pids={spec.name: supervisor.processes[0].pid},
            cold_start=cold_start(supervisor, spec.name),
        )


@contextmanager
def our_stack() -> Iterator[Server]:
    """Portal, action server and Rasa with the model in ``models/`` (never trained here)."""
    if not has_model(PROJECT_ROOT):
        sys.exit("No trained model in models/: run `make train` first.")
    with tempfile.TemporaryDirectory(prefix="bench-speed-") as var_dir:
        settings = bench_settings(Path(var_dir))
        stack = Stack(settings, train=False, echo=quiet)
        stack.supervisor.poll_interval = POLL_SECONDS
        with stack:
            yield Server(
                rasa_url=f"http://127.0.0.1:{settings.rasa_port}",
                pids={p.name: p.pid for p in stack.supervisor.processes},
                cold_start=cold_start(stack.supervisor, "rasa"),
                portal_url=settings.portal_url,
                database_url=settings.resolved_database_url,
            )
