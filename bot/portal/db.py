"""Engine and session factory; nothing connects until ``create_database`` is awaited."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import sessionmaker

from bot.portal.models import Base


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
    """Create missing tables (the schema is small and additive for now)."""
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
