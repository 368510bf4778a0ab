"""The production topology under a steady load, on services of its own, for the fault tests.

One stack for the module: nginx, 2 portals, 2 action servers, 2 Rasa servers, on a PostgreSQL
server, a Redis server and an SMTP relay started for these tests (``services.py``: restarting
the machine's own would disturb everything else). A watcher restarts a process that dies, as
``make run-production`` does (``Supervisor.restart``), except the ones a test holds down.
"""

from __future__ import annotations

import os
import secrets
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bot.runner.databases import PostgresServer
from bot.runner.errors import ProcessExited
from bot.runner.process import ManagedProcess
from bot.runner.production import Topology
from bot.runner.production_stack import ProductionStack
from bot.runner.supervisor import Supervisor
from bot.runner.training import has_model
from bot.settings import PROJECT_ROOT
from tests.faults.load import SteadyLoad
from tests.faults.services import (
    FlakyRelay,
    PrivatePostgres,
    PrivateRedis,
    ServiceUnavailable,
)
from tests.runner.test_run_production import nginx_or_skip

#: Two Rasa servers load the model on two shared cores.
START_TIMEOUT = 240.0
TENANTS = 10


class Watcher:
    """``Supervisor.watch`` in a thread, skipping the processes a test holds down."""

    def __init__(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor
        self.held: set[str] = set()
        self.restarted: list[tuple[str, float]] = []
        self._thread = threading.Thread(target=self._run, name="watcher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        supervisor = self.supervisor
        while not supervisor.stopped.wait(0.2):
            try:
                supervisor.check_running(ignore=self.held)
            except ProcessExited as exited:
                supervisor.restart(exited)
                self.restarted.append((exited.name, time.monotonic()))

    def process(self, name: str) -> ManagedProcess:
        return next(p for p in self.supervisor.processes if p.name == name)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Kill ``name`` and whatever it started (its process group)."""
        os.killpg(self.process(name).pid, sig)

    def wait_restarted(self, name: str, since: float, timeout: float) -> float:
        """Seconds from ``since`` until the watcher had ``name`` running and healthy again."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = [at for who, at in self.restarted if who == name and at >= since]
            if done:
                return done[0] - since
            time.sleep(0.2)
        raise AssertionError(f"{name} was not restarted within {timeout:.0f} s")


@dataclass
class Faulty:
    """The running topology, its services, its watcher and its load."""

    stack: ProductionStack
    topology: Topology
    postgres: PrivatePostgres
    redis: PrivateRedis
    relay: FlakyRelay
    watcher: Watcher
    load: SteadyLoad

    @property
    def shared(self) -> dict[str, str]:
        return self.stack.shared

    @property
    def rasa_entry(self) -> str:
        return f"http://127.0.0.1:{self.topology.rasa_port}"

    @property
    def portal_entry(self) -> str:
        return f"http://127.0.0.1:{self.topology.portal_port}"

    @property
    def maildir(self) -> Path:
        return self.relay.maildir

    def say(self, sender: str, text: str) -> str:
        """One message of a probing tenant (outside the load, from 127.0.0.3), its replies."""
        transport = httpx.HTTPTransport(local_address="127.0.0.3")
        with httpx.Client(transport=transport, timeout=90, trust_env=False) as http:
            response = http.post(
                f"{self.rasa_entry}/webhooks/rest/webhook",
                json={"sender": sender, "message": text},
                headers={"Authorization": f"Bearer {self.shared['REST_CHANNEL_TOKEN']}"},
            )
        body = response.json()
        return "\n".join(str(reply.get("text", "")) for reply in body)


def _started(service: PrivatePostgres | PrivateRedis) -> None:
    try:
        service.start()
    except ServiceUnavailable as error:
        service.stop()
        pytest.skip(str(error))


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Faulty]:
    if not has_model(PROJECT_ROOT):
        pytest.fail("No trained model in models/: run the README's test command, which trains it")
    nginx_or_skip()
    try:
        postgres, redis_server = PrivatePostgres(), PrivateRedis()
    except ServiceUnavailable as error:
        pytest.skip(str(error))
    var_dir = tmp_path_factory.mktemp("faults") / "var"
    relay = FlakyRelay(var_dir.parent / "mailbox")
    _started(postgres)
    try:
        _started(redis_server)
        relay.start()
        topology = Topology.on_free_ports(
            var_dir,
            smtp_relay=relay.address,
            postgres=PostgresServer.from_url(postgres.url),
            redis_url=redis_server.url,
            redis_prefix="faults",
        )
        environ = {
            name: value
            for name, value in os.environ.items()
            if name not in ("PORTAL_PUBLIC_URL", "RASA_PUBLIC_URL")
        }
        stack = ProductionStack(
            topology,
            environ=environ,
            demo=True,
            rasa_timeout=START_TIMEOUT,
            echo=lambda *_: None,
        )
        with stack:
            assert stack.supervisor is not None
            watcher = Watcher(stack.supervisor)
            watcher.start()
            load = SteadyLoad(
                f"http://127.0.0.1:{topology.rasa_port}",
                stack.shared["REST_CHANNEL_TOKEN"],
                run=secrets.token_hex(3),
                tenants=TENANTS,
            )
            load.start()
            try:
                yield Faulty(stack, topology, postgres, redis_server, relay, watcher, load)
            finally:
                load.stop()
    finally:
        relay.stop()
        redis_server.stop()
        postgres.stop()


def write_table(rows: list[dict[str, str]], path: Path) -> None:
    """The fault table of the closing note, as Markdown."""
    if not rows:
        return
    columns = list(rows[0])
    lines = [
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
        *("| " + " | ".join(row[c] for c in columns) + " |" for row in rows),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
