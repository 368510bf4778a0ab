"""Alembic's entry point: run the revisions on the connection ``alembic_config`` passed, or
on a new async engine for ``sqlalchemy.url`` (SQLite/aiosqlite or PostgreSQL/asyncpg).

Why a passed connection: ``db.create_database`` upgrades inside its own transaction, then
seals legacy secrets in it, so a failed start-up leaves the database as it was (PostgreSQL).
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.portal.migrations import CONTEXT_OPTIONS
from bot.portal.models import Base


def run_on(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, **CONTEXT_OPTIONS)
    with context.begin_transaction():  # no new transaction if the connection is in one
        context.run_migrations()


async def run_on_url(url: str) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run_on)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("the portal's migrations run on a database (no offline SQL scripts)")
given = context.config.attributes.get("connection")
if given is not None:
    run_on(given)
else:
    asyncio.run(run_on_url(context.config.get_main_option("sqlalchemy.url") or ""))
