"""``/ready`` of every process: 200 only when it can serve, 503 with one reason word otherwise.

- the portal: its database answers ``SELECT 1`` (SQLite file gone, PostgreSQL database dropped);
- the action server: the portal answers its ``/health``;
- the Rasa server: the model is loaded and the tracker store's database answers.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from sanic import Sanic

from bot.app import create_app
from bot.runner import rasa_probes
from bot.runner.action_server import create_action_app
from bot.settings import Settings
from tests.conftest import PG_ADMIN_DATABASE, PG_HOST, PG_PORT, PG_USER
from tests.portal.support import Portal, free_port, serve
from tests.runner.test_runner_action_server import ACTIONS

#: Every check of these tests ends within this many seconds (the checks' own limit is 2 s).
BOUND = 15.0
UNAVAILABLE = "unavailable"


@asynccontextmanager
async def served(app: Sanic) -> AsyncIterator[httpx.AsyncClient]:
    """``app`` on a free loopback port, with a client to it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        async with serve(app, sock), httpx.AsyncClient(base_url=url, timeout=BOUND) as client:
            yield client
    finally:
        sock.close()


async def ready(client: httpx.AsyncClient) -> httpx.Response:
    return await asyncio.wait_for(client.get("/ready"), BOUND)


def assert_unavailable(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 503
    assert response.json() == {"status": UNAVAILABLE, "reason": reason}


# --------------------------------------------------------------------------- portal


async def test_portal_ready_then_its_sqlite_file_is_gone(settings: Settings) -> None:
    async with served(create_app(settings)) as client:
        assert (await ready(client)).json() == {"status": "ready"}
        assert (await client.get("/health")).status_code == 200

        database = settings.var_dir / "portal.db"
        for path in settings.var_dir.glob("portal.db*"):
            path.unlink()
        database.mkdir()  # SQLite cannot open a directory, even for root

        assert_unavailable(await ready(client), "database")
        assert (await client.get("/health")).status_code == 200  # alive, not ready
        shutil.rmtree(database)


async def _pg(statement: str) -> None:
    connection = await asyncpg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, database=PG_ADMIN_DATABASE, timeout=5
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.mark.postgres
async def test_portal_ready_then_its_postgresql_database_is_dropped(settings: Settings) -> None:
    # Named like conftest's databases, so that an interrupted run's leftover is dropped later.
    name = f"portal_test_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        await _pg(f'CREATE DATABASE "{name}"')
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError) as error:
        pytest.skip(f"PostgreSQL not reachable: {error}")
    url = f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    try:
        async with served(create_app(settings.with_overrides(database_url=url))) as client:
            assert (await ready(client)).status_code == 200

            await _pg(f'DROP DATABASE "{name}" WITH (FORCE)')

            answer = await ready(client)
            assert_unavailable(answer, "database")
            assert name not in answer.text and "5432" not in answer.text
    finally:
        await _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --------------------------------------------------------------------------- action server


@pytest.fixture
def action_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> Settings:
    """An importable actions package, Sanic allowing the same app name again (rasa_sdk's)."""
    package = tmp_path / "ready_echo_actions"
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent(ACTIONS))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("PORTAL_URL", raising=False)  # the portal of ``settings``
    monkeypatch.setattr(Sanic, "test_mode", True)
    return settings


def action_app(settings: Settings) -> Sanic:
    return create_action_app(token="jeton", actions="ready_echo_actions", settings=settings)


@pytest.mark.parametrize("portal_settings", ["sqlite"], indirect=True)
async def test_action_server_ready_when_the_portal_answers(
    action_settings: Settings, portal: Portal
) -> None:
    async with served(action_app(portal.settings)) as client:
        answer = await ready(client)

    assert answer.status_code == 200
    assert answer.json() == {"status": "ready"}


async def test_action_server_not_ready_while_the_portal_is_down(action_settings: Settings) -> None:
    nobody = action_settings.with_overrides(portal_port=free_port())

    async with served(action_app(nobody)) as client:
        answer = await ready(client)
        alive = await client.get("/health")

    assert_unavailable(answer, "portal")
    assert str(nobody.portal_port) not in answer.text
    assert alive.status_code == 200


async def test_action_server_readiness_needs_no_secret_but_actions_still_do(
    action_settings: Settings,
) -> None:
    async with served(action_app(action_settings.with_overrides(portal_port=free_port()))) as c:
        assert (await ready(c)).status_code == 503  # not 401
        assert (await c.get("/actions")).status_code == 401


# --------------------------------------------------------------------------- Rasa server


class FakeAgent:
    """What ``/ready`` reads of Rasa's agent."""

    def __init__(self, tracker_store: Any, *, loaded: bool = True) -> None:
        self.tracker_store = tracker_store
        self.loaded = loaded

    def is_ready(self) -> bool:
        return self.loaded


class EngineStore(InMemoryTrackerStore):
    """A tracker store with an SQL engine, as ``SQLTrackerStore`` has."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        super().__init__(Domain.empty())
        self.engine = engine


@pytest.fixture
def rasa_app(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Sanic:
    """A Sanic app standing for Rasa's, with our probes."""
    monkeypatch.setattr(Sanic, "test_mode", True)
    app = Sanic(f"rasa_probes_{secrets.token_hex(4)}")
    rasa_probes.add_probes(app, settings)
    return app


async def test_rasa_not_ready_before_its_model_is_loaded(rasa_app: Sanic) -> None:
    async with served(rasa_app) as client:
        assert_unavailable(await ready(client), "model")  # no agent yet
        rasa_app.ctx.agent = FakeAgent(InMemoryTrackerStore(Domain.empty()), loaded=False)
        assert_unavailable(await ready(client), "model")
        rasa_app.ctx.agent = FakeAgent(FailSafeTrackerStore(InMemoryTrackerStore(Domain.empty())))
        assert (await ready(client)).status_code == 200


async def test_rasa_ready_only_while_its_tracker_database_answers(
    rasa_app: Sanic, tmp_path: Path
) -> None:
    working = EngineStore(sa.create_engine(f"sqlite:///{tmp_path / 'tracker.db'}"))
    broken = EngineStore(sa.create_engine(f"sqlite:///{tmp_path}"))  # a directory

    async with served(rasa_app) as client:
        rasa_app.ctx.agent = FakeAgent(FailSafeTrackerStore(working))
        assert (await ready(client)).status_code == 200
        rasa_app.ctx.agent = FakeAgent(FailSafeTrackerStore(broken))
        answer = await ready(client)

    assert_unavailable(answer, "tracker_store")
    assert str(tmp_path) not in answer.text


def test_rasa_app_gets_the_probes_and_keeps_its_routes(monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.core.channels.rest import RestInput

    monkeypatch.setattr(Sanic, "test_mode", True)
    monkeypatch.delenv("ASSISTANT_ENV", raising=False)
    app = rasa_probes.configure_app_with_probes([RestInput()], enable_api=False)

    paths = {route.path for route in app.router.routes}
    assert {"ready", "metrics", "webhooks/rest/webhook"} <= paths
    assert "" in paths  # Rasa's "/" stays
    Sanic._app_registry.pop(app.name, None)
