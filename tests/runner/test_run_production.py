"""``make run-production`` for real: nginx, 2 portals, 2 action servers, 2 Rasa servers, the SMTP
relay, on PostgreSQL and Redis, each test run on free ports with a var directory, databases
and a Redis key prefix of its own (all removed afterwards).

Skipped, with the reason, when nginx is missing and cannot be installed, or when PostgreSQL
(127.0.0.1:5432) or Redis (127.0.0.1:6379) does not answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
import redis

from bot.runner.databases import PostgresServer, drop_databases
from bot.runner.nginx import find_nginx
from bot.runner.ports import port_is_free
from bot.runner.production import Topology
from bot.runner.production_stack import ProductionStack
from bot.runner.stack import run_async
from bot.runner.training import has_model
from bot.settings import PROJECT_ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/0"
QUESTION = "quels sont les jours de prélèvement ?"
#: The help page's answer: the direct debit days.
ANSWER = re.compile(r"le 2, le 7 ou le 10")
#: Seconds allowed to the whole start (two Rasa servers load the model on shared cores).
START_TIMEOUT = 240.0


def nginx_or_skip() -> None:
    """Install Debian's nginx as ``make run-production`` does, or skip saying why."""
    if find_nginx():
        return
    apt = shutil.which("apt-get")
    if apt is None:
        pytest.skip("nginx n'est pas installé et apt-get est absent")
    command = [apt, "install", "-y", "nginx"]
    if os.geteuid() != 0:
        if shutil.which("sudo") is None:
            pytest.skip("nginx n'est pas installé (apt-get demande root, sudo est absent)")
        command = ["sudo", "-n", *command]
    with contextlib.suppress(subprocess.TimeoutExpired):
        subprocess.run(command, capture_output=True, timeout=300, check=False)
    if not find_nginx():
        pytest.skip("nginx n'est pas installé et apt-get install -y nginx a échoué")


def services_or_skip() -> None:
    async def postgres() -> None:
        connection = await asyncpg.connect(dsn=f"{POSTGRES_URL}/postgres", timeout=5)
        await connection.close()

    try:
        run_async(postgres)
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError) as error:
        pytest.skip(f"PostgreSQL ne répond pas sur 127.0.0.1:5432 : {error}")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis ne répond pas sur 127.0.0.1:6379 : {error}")


@dataclass
class Running:
    stack: ProductionStack
    topology: Topology
    http: httpx.Client

    @property
    def token(self) -> str:
        return self.stack.shared["REST_CHANNEL_TOKEN"]

    @property
    def metrics_token(self) -> str:
        return self.stack.shared["METRICS_TOKEN"]

    def say(self, sender: str, message: str, *, source: str = "127.0.0.1") -> str:
        """A REST message through nginx's Rasa port, from the loopback address ``source``
        (nginx keeps each client address on one Rasa server)."""
        transport = httpx.HTTPTransport(local_address=source)
        with httpx.Client(transport=transport, timeout=60, trust_env=False) as client:
            response = client.post(
                f"http://127.0.0.1:{self.topology.rasa_port}/webhooks/rest/webhook",
                json={"sender": sender, "message": message},
                headers={"Authorization": f"Bearer {self.token}"},
            )
        response.raise_for_status()
        return "\n".join(reply.get("text", "") for reply in response.json())

    def turns(self, rasa_port: int) -> float:
        """Messages one Rasa server handled, from its ``/metrics`` (the metrics token)."""
        response = self.http.get(
            f"http://127.0.0.1:{rasa_port}/metrics",
            headers={"Authorization": f"Bearer {self.metrics_token}"},
        )
        response.raise_for_status()
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in response.text.splitlines()
            if line.startswith("rasa_turns_total{")
        )


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    if not has_model(PROJECT_ROOT):
        pytest.fail("No trained model in models/: run the README's test command, which trains it")
    nginx_or_skip()
    services_or_skip()
    unique = f"{os.getpid()}_{secrets.token_hex(4)}"
    topology = Topology.on_free_ports(
        tmp_path_factory.mktemp("production") / "var",
        postgres=PostgresServer.from_url(POSTGRES_URL),
        portal_database=f"prodtest_portal_{unique}",
        tracker_database=f"prodtest_tracker_{unique}",
        redis_url=REDIS_URL,
        redis_prefix=f"prodtest{unique.replace('_', '')}",
    )
    # The test run's own public URLs, whatever the environment says.
    environ = {
        name: value
        for name, value in os.environ.items()
        if name not in ("PORTAL_PUBLIC_URL", "RASA_PUBLIC_URL")
    }
    stack = ProductionStack(
        topology, environ=environ, rasa_timeout=START_TIMEOUT, echo=lambda *_: None
    )
    try:
        with stack, httpx.Client(timeout=30, trust_env=False) as http:
            yield Running(stack=stack, topology=topology, http=http)
    finally:
        run_async(
            lambda: drop_databases(
                topology.postgres, [topology.portal_database, topology.tracker_database]
            )
        )
        keys = redis.Redis.from_url(REDIS_URL)
        for key in keys.scan_iter(f"{topology.redis_prefix}*"):
            keys.delete(key)
        keys.close()


def test_portal_ready_through_nginx_and_every_portal_ready(production: Running) -> None:
    topology = production.topology
    response = production.http.get(f"http://127.0.0.1:{topology.portal_port}/ready")
    assert (response.status_code, response.json()) == (200, {"status": "ready"})
    for port in topology.portal_ports:
        assert production.http.get(f"http://127.0.0.1:{port}/ready").status_code == 200


def test_help_page_question_answered_in_french_and_kept_in_postgres(
    production: Running,
) -> None:
    sender = f"prod-{secrets.token_hex(4)}"

    reply = production.say(sender, QUESTION)

    assert ANSWER.search(reply), reply

    async def stored_events() -> int:
        topology = production.topology
        connection = await asyncpg.connect(
            dsn=topology.postgres.dsn(topology.tracker_database), timeout=5
        )
        try:
            return await connection.fetchval(
                "SELECT count(*) FROM events WHERE sender_id = $1", f"rest:{sender}"
            )
        finally:
            await connection.close()

    assert run_async(stored_events) > 0


def test_rest_channel_refuses_a_message_without_its_token(production: Running) -> None:
    response = production.http.post(
        f"http://127.0.0.1:{production.topology.rasa_port}/webhooks/rest/webhook",
        json={"sender": "intrus", "message": "bonjour"},
    )
    assert response.status_code == 403


def test_both_rasa_servers_answer_clients_spread_by_address(production: Running) -> None:
    rasa_ports = production.topology.rasa_ports
    for port in rasa_ports:
        ready = production.http.get(f"http://127.0.0.1:{port}/ready")
        assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    # nginx hashes the client address: different loopback addresses reach both servers.
    before = {port: production.turns(port) for port in rasa_ports}
    for last_byte in range(1, 33):
        source = f"127.0.0.{last_byte}"
        assert ANSWER.search(production.say(f"prod-{last_byte}", QUESTION, source=source))
        if all(production.turns(port) > before[port] for port in rasa_ports):
            break
    assert all(production.turns(port) > before[port] for port in rasa_ports)


def test_actions_go_through_nginx_to_both_action_servers(production: Running) -> None:
    topology = production.topology
    for port in (topology.actions_port, *topology.actions_ports):
        # /health: open; the webhook itself needs Rasa's ACTION_SERVER_TOKEN.
        assert production.http.get(f"http://127.0.0.1:{port}/health").status_code == 200
    refused = production.http.post(
        f"http://127.0.0.1:{topology.actions_port}/webhook", json={"next_action": "x"}
    )
    assert refused.status_code in (401, 403)


def test_stop_ends_every_process_and_frees_the_ports(production: Running) -> None:
    """Last in the module: stops the stack the fixture started (its exit is then a no-op)."""
    topology = production.topology
    processes = list(production.stack.supervisor.processes)
    assert {process.name for process in processes} >= {"nginx", "smtp-relay", "rasa-2"}

    started = time.monotonic()
    production.stack.stop()

    assert time.monotonic() - started < 30
    assert all(process.poll() is not None for process in processes)
    ports = (
        topology.portal_port,
        topology.rasa_port,
        *topology.portal_ports,
        *topology.rasa_ports,
        *topology.actions_ports,
    )
    assert all(port_is_free(port, "127.0.0.1") for port in ports)
    assert not (Path(topology.var_dir) / "nginx" / "nginx.pid").exists()
