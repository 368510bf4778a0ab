"""Shared fixtures: settings on a temporary var directory, a fresh portal database on SQLite and
on PostgreSQL, a real local SMTP server and a running portal (helpers: tests/portal/support.py).

::

    settings ─> portal_settings [sqlite | postgres] ─> sessions (demo data) ─> portal
        └────> mailbox (SMTP sink on settings.smtp_port, Maildir settings.mailbox_dir)
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from bot.mail.sink import start_smtp_sink
from bot.portal.bootstrap import prepare_database
from bot.portal.db import create_database, create_engine, session_factory
from bot.portal.models import Base
from bot.portal.services import demo
from bot.portal.services.passwords import hash_password
from bot.runner.rasa_main import all_replacements
from bot.settings import Settings
from tests.portal.support import Mailbox, Portal, free_port, running_portal

PG_HOST, PG_PORT, PG_USER, PG_ADMIN_DATABASE = "127.0.0.1", 5432, "postgres", "test"


# --------------------------------------------------------------------------- settings


@pytest.fixture
def portal_socket() -> Iterator[socket.socket]:
    """The portal's listening socket, bound first so that emailed links can name its port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    yield sock
    sock.close()


@pytest.fixture
def settings(tmp_path: Path, portal_socket: socket.socket) -> Settings:
    """Development settings on ``tmp_path`` (own SQLite file and Maildir) and free ports."""
    port = portal_socket.getsockname()[1]
    return Settings(
        var_dir=tmp_path,
        portal_port=port,
        public_base_url=f"http://127.0.0.1:{port}",
        rasa_port=free_port(),
        actions_port=free_port(),
        smtp_port=free_port(),
        outbox_poll_seconds=0.2,
    )


# --------------------------------------------------------------------------- databases


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def _pg_admin(statement: str) -> None:
    """Run ``statement`` on the admin database, first dropping what interrupted runs left."""
    connection = await asyncpg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, database=PG_ADMIN_DATABASE, timeout=5
    )
    try:
        leftovers = await connection.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE 'portal\\_test\\_%'"
        )
        for (name,) in leftovers:
            pid = name.split("_")[2]
            if pid.isdigit() and not _alive(int(pid)):
                await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(statement)
    finally:
        await connection.close()


def _run_in_own_loop(coroutine: Coroutine[Any, Any, None]) -> None:
    """Session-wide set-up may be reached from a test's running loop: use a loop of its own."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A uniquely named PostgreSQL database for this test session, dropped at the end."""
    name = f"portal_test_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        _run_in_own_loop(_pg_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError) as error:
        pytest.skip(f"PostgreSQL not reachable on {PG_HOST}:{PG_PORT}: {error}")
    yield f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    _run_in_own_loop(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _empty_database(url: str) -> None:
    engine = create_engine(url)
    try:
        await create_database(engine)
        tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture
async def empty_postgres_url(postgres_url: str) -> str:
    """The session's PostgreSQL database at the latest schema, every table emptied."""
    await _empty_database(postgres_url)
    return postgres_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def portal_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """``settings`` on an empty portal database: a fresh SQLite file, or PostgreSQL emptied."""
    if request.param == "sqlite":
        return settings
    url = request.getfixturevalue("postgres_url")
    await _empty_database(url)
    return settings.with_overrides(database_url=url)


@pytest.fixture(scope="session")
def demo_password_hash() -> str:
    return hash_password(secrets.token_urlsafe(24))


@pytest.fixture
async def sessions(
    portal_settings: Settings, demo_password_hash: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[sessionmaker]:
    """Sessions on the portal database, holding the demo households of DESIGN.md."""
    # Demo passwords are random and unknown either way; hashing one per account costs 0.1 s.
    monkeypatch.setattr(demo, "hash_password", lambda _password: demo_password_hash)
    await prepare_database(portal_settings)
    engine = create_engine(portal_settings.resolved_database_url)
    yield session_factory(engine)
    await engine.dispose()


# --------------------------------------------------------------------------- email and portal


@pytest.fixture
def mailbox(settings: Settings) -> Iterator[Mailbox]:
    """A real SMTP server on ``settings.smtp_port`` keeping every email in the dev Maildir."""
    controller = start_smtp_sink(settings.smtp_host, settings.smtp_port, settings.mailbox_dir)
    yield Mailbox(settings.mailbox_dir)
    controller.stop()


@pytest.fixture
async def portal(
    portal_settings: Settings, sessions: sessionmaker, portal_socket: socket.socket
) -> AsyncIterator[Portal]:
    """The portal with the demo data, serving on ``settings.portal_port``."""
    async with running_portal(portal_settings, portal_socket, sessions) as running:
        yield running


# --------------------------------------------------------------------------- trained model


@pytest.fixture(scope="session")
def trained_agent() -> Iterator[Any]:
    """The trained model in this process, without action server, loaded once for the run
    (NLU checks and the help-page answers, which need no custom action)."""
    from bot.runner.training import has_model

    root = Path(__file__).resolve().parents[1]
    if not has_model(root):
        pytest.fail("No trained model in models/: run the README's test command, which trains it")
    from rasa.core.agent import Agent

    yield Agent.load(str(root / "models" / "tenant-assistant.tar.gz"))


def parse(agent: Any, text: str) -> dict[str, Any]:
    """What the NLU makes of ``text``."""
    return asyncio.run(agent.parse_message(text))


# --------------------------------------------------------------------------- Rasa's methods


#: A method the class inherits rather than defines (its own entry is removed, not reset).
INHERITED = object()


@pytest.fixture
def rasas_own() -> Iterator[None]:
    """Rasa's own methods back in place after the test (the entry point installs every table
    of replacements)."""
    replaced = all_replacements()
    own = [(owner, name, vars(owner).get(name, INHERITED)) for owner, name, _ in replaced]
    yield
    for owner, name, method in own:
        if method is INHERITED:  # e.g. RasaModel.fit is Keras's: the override goes
            if name in vars(owner):
                delattr(owner, name)
        else:
            setattr(owner, name, method)
