"""Alembic migrations of the portal schema (issue 12, production topology).

The revisions of ``bot/portal/migrations/versions`` build exactly the schema of the models, on
SQLite and on PostgreSQL; a database made by ``create_all`` before migrations starts without
losing a row and ends stamped at head; starting twice changes nothing; and a model changed
without its revision fails here.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from alembic import command
from sqlalchemy import Column, MetaData, String, event, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.portal.db import create_database, create_engine, session_factory
from bot.portal.migrations import (
    alembic_config,
    current_revision,
    head_revision,
    schema_differences,
    upgrade_to_head,
)
from bot.portal.models import Base
from bot.portal.services import demo
from tests.conftest import PG_HOST, PG_PORT, PG_USER, _pg_admin, _run_in_own_loop
from tests.portal.support import db_snapshot

NewDatabase = Callable[[], str]
HOW_TO_MIGRATE = (
    "the models differ from what the migrations build: add a revision "
    '(python -m bot.portal.migrations revision "what changed"), review it, and run this again'
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NewDatabase]:
    """Makes URLs of new, empty databases: SQLite files, or PostgreSQL databases (dropped at
    the end; named like conftest's so that an interrupted run's are dropped by the next)."""
    created: list[str] = []
    numbers = itertools.count()

    def new() -> str:
        if request.param == "sqlite":
            return f"sqlite+aiosqlite:///{tmp_path / f'portal-{next(numbers)}.db'}"
        name = f"portal_test_{os.getpid()}_{secrets.token_hex(4)}"
        try:
            _run_in_own_loop(_pg_admin(f'CREATE DATABASE "{name}"'))
        except (OSError, asyncio.TimeoutError, asyncpg.PostgresError) as error:
            pytest.skip(f"PostgreSQL not reachable on {PG_HOST}:{PG_PORT}: {error}")
        created.append(name)
        return f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"

    yield new
    for name in created:
        _run_in_own_loop(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def on(engine: AsyncEngine, function: Callable[..., Any], *args: Any) -> Any:
    """``function(connection, *args)`` in a transaction of ``engine``."""
    async with engine.begin() as connection:
        return await connection.run_sync(function, *args)


async def on_url(url: str, function: Callable[..., Any], *args: Any) -> Any:
    engine = create_engine(url)
    try:
        return await on(engine, function, *args)
    finally:
        await engine.dispose()


def schema_of(connection: Connection) -> dict[str, Any]:
    """What the inspector sees of the portal tables (types, nullability, keys, unique and
    check constraints, indexes with their ``WHERE``), comparable between two databases."""
    inspector = inspect(connection)
    schema: dict[str, Any] = {}
    for name in sorted(Base.metadata.tables):
        schema[name] = {
            "columns": [
                (column["name"], str(column["type"]), column["nullable"])
                for column in inspector.get_columns(name)
            ],
            "primary key": inspector.get_pk_constraint(name)["constrained_columns"],
            "foreign keys": sorted(
                (tuple(key["constrained_columns"]), key["referred_table"])
                + tuple(key["referred_columns"])
                for key in inspector.get_foreign_keys(name)
            ),
            "unique": sorted(
                (str(unique["name"]), *unique["column_names"])
                for unique in inspector.get_unique_constraints(name)
            ),
            "indexes": sorted(
                (index["name"], bool(index["unique"]), *index["column_names"])
                + tuple(sorted((k, str(v)) for k, v in index.get("dialect_options", {}).items()))
                for index in inspector.get_indexes(name)
            ),
            "checks": sorted(
                (str(check["name"]), check["sqltext"])
                for check in inspector.get_check_constraints(name)
            ),
        }
    if connection.dialect.name == "sqlite":  # and the statements SQLite keeps, to the letter
        schema["sqlite indexes"] = sorted(
            connection.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            ).all()
        )
    return schema


def stamped(connection: Connection) -> list[str]:
    return [row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))]


async def load_demo(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo households (accounts, leases, payments, certificates...) as rows to keep."""
    monkeypatch.setattr(demo, "hash_password", lambda _password: "not-a-real-hash")
    async with session_factory(engine).begin() as session:
        assert await demo.load_demo_data(session=session, today=date.today())


async def test_the_migrations_build_exactly_the_models_schema(new_database: NewDatabase) -> None:
    """Also the guard against a model changed without its revision: compare_metadata finds
    the difference (the extra check compares what it leaves out: CHECK constraints, partial
    indexes' WHERE)."""
    migrated, reference = new_database(), new_database()

    await upgrade_to_head(migrated)
    await on_url(reference, Base.metadata.create_all)

    assert await on_url(migrated, schema_differences) == [], HOW_TO_MIGRATE
    assert await on_url(migrated, current_revision) == head_revision()
    assert await on_url(migrated, schema_of) == await on_url(reference, schema_of)


async def test_a_model_changed_without_its_revision_is_found(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'portal.db'}"
    await upgrade_to_head(url)
    changed = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["households"].append_column(Column("nickname", String(40), nullable=True))

    differences = await on_url(url, schema_differences, changed)

    assert [(kind, table, column.name) for kind, _schema, table, column in differences] == [
        ("add_column", "households", "nickname")
    ]


async def test_a_database_made_before_migrations_keeps_its_rows(
    new_database: NewDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As an earlier version left it: ``create_all``, no ``alembic_version``, and neither a
    table (``conversation_tags``) nor an optional column (``new_email``) added since."""
    engine = create_engine(new_database())
    try:
        await on(engine, Base.metadata.create_all)
        await load_demo(engine, monkeypatch)
        rows = await db_snapshot(session_factory(engine))
        async with engine.begin() as connection:
            await connection.execute(text("DROP TABLE conversation_tags"))
            await connection.execute(text("ALTER TABLE one_time_tokens DROP COLUMN new_email"))

        await create_database(engine)

        assert await db_snapshot(session_factory(engine)) == rows
        assert await on(engine, stamped) == [head_revision()]
        assert await on(engine, schema_differences) == []
    finally:
        await engine.dispose()


async def test_starting_twice_changes_nothing(
    new_database: NewDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(new_database())
    statements: list[str] = []
    try:
        await create_database(engine)
        await load_demo(engine, monkeypatch)
        rows, schema = await db_snapshot(session_factory(engine)), await on(engine, schema_of)
        event.listen(
            engine.sync_engine,
            "before_cursor_execute",
            lambda _conn, _cursor, statement, *_rest: statements.append(statement),
        )

        await create_database(engine)

        changes = [s for s in statements if s.lstrip().upper().startswith(("CREATE", "ALTER"))]
        changes += [s for s in statements if s.lstrip().upper().startswith(("DROP", "INSERT"))]
        assert changes == []
        assert await on(engine, schema_of) == schema
        assert await db_snapshot(session_factory(engine)) == rows
        assert await on(engine, stamped) == [head_revision()]
    finally:
        await engine.dispose()


async def test_the_first_revision_can_be_undone(new_database: NewDatabase) -> None:
    url = new_database()
    await upgrade_to_head(url)

    await on_url(url, lambda connection: command.downgrade(alembic_config(connection), "base"))

    tables = await on_url(url, lambda connection: inspect(connection).get_table_names())
    assert tables == ["alembic_version"]


@pytest.mark.postgres
@pytest.mark.parametrize("new_database", ["postgres"], indirect=True)
async def test_workers_starting_together_migrate_once(new_database: NewDatabase) -> None:
    """Sanic's workers each open the database: the advisory lock makes the others wait."""
    url = new_database()
    engines = [create_engine(url) for _ in range(3)]
    try:
        await asyncio.gather(*(create_database(engine) for engine in engines))
        assert await on(engines[0], stamped) == [head_revision()]
        assert await on(engines[0], schema_differences) == []
    finally:
        for engine in engines:
            await engine.dispose()
