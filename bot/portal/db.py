"""Engine and session factory; nothing connects until ``create_database`` is awaited."""

from __future__ import annotations

import logging

from sqlalchemy import MetaData, event, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import sessionmaker

from bot.portal.models import Base

log = logging.getLogger(__name__)


class SchemaOutdated(RuntimeError):
    """The database lacks a required column that cannot be added in place."""


def create_engine(url: str) -> AsyncEngine:
    """An async engine; SQLite gets foreign keys and a busy timeout for concurrent requests."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, future=True, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    return create_async_engine(url, future=True, pool_pre_ping=True)


def session_factory(engine: AsyncEngine) -> sessionmaker:
    return sessionmaker(engine, class_=AsyncSession, expire_on_commit=False, future=True)


async def create_database(engine: AsyncEngine) -> None:
    """Create missing tables and add missing nullable columns.

    The schema only grows for now: a database made by an earlier version gets the new tables
    and the new optional columns; a new required column stops start-up with its name.
    """
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
        added = await connection.run_sync(add_missing_columns, Base.metadata)
    for column in added:
        log.info("schema: added column %s", column)


def add_missing_columns(connection: Connection, metadata: MetaData) -> list[str]:
    """``ALTER TABLE ... ADD COLUMN`` for each nullable column of ``metadata`` the tables lack."""
    inspector = inspect(connection)
    added = []
    for table in metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            if not column.nullable:
                raise SchemaOutdated(
                    f"La base de données date d'une version antérieure : la colonne obligatoire "
                    f"{table.name}.{column.name} manque. Migrez-la, ou supprimez-la en "
                    f"développement (make run recharge les données de démonstration)."
                )
            kind = column.type.compile(dialect=connection.dialect)
            connection.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}"))
            added.append(f"{table.name}.{column.name}")
    return added
