"""Phone numbers that texted STOP, kept until they text START.

In a database, so that the refusal outlives every restart and holds on every Rasa server:
a SQLite file by default (``var/sms_opt_out.sqlite3``: durable, atomic, shared by the
processes of one machine through file locking, no server to run), PostgreSQL when several
machines answer SMS (``SMS_OPT_OUT_DATABASE_URL``; ``make run-production`` gives the tracker's
database). Not Redis: a number that said STOP must never be texted again because a cache was
restarted. The queries are small and run in a thread, off the server's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

_METADATA = sa.MetaData()
OPT_OUTS = sa.Table(
    "sms_opt_out",
    _METADATA,
    sa.Column("phone", sa.String(32), primary_key=True),
    sa.Column("opted_out_at", sa.String(20), nullable=False),
)


def database_url(where: Path | str) -> str:
    """A SQLite file's path, or a SQLAlchemy URL (``postgresql://…``), as a URL."""
    text = str(where)
    return text if "://" in text else f"sqlite:///{Path(text)}"


class OptOutStore:
    """Phone numbers that texted STOP, in the database at ``where`` (see the module docstring)."""

    def __init__(self, where: Path | str):
        self.url = database_url(where)
        self._engine: sa.engine.Engine | None = None

    async def add(self, phone: str) -> None:
        await asyncio.to_thread(self._add, phone)

    async def remove(self, phone: str) -> None:
        await self._run(OPT_OUTS.delete().where(OPT_OUTS.c.phone == phone))

    async def contains(self, phone: str) -> bool:
        rows = await self._run(sa.select(OPT_OUTS.c.phone).where(OPT_OUTS.c.phone == phone))
        return bool(rows)

    def _add(self, phone: str) -> None:
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        # Already opted out: the first date stays.
        with contextlib.suppress(IntegrityError):
            self._execute(OPT_OUTS.insert().values(phone=phone, opted_out_at=now))

    async def _run(self, statement: Any) -> list[Any]:
        return await asyncio.to_thread(self._execute, statement)

    def _execute(self, statement: Any) -> list[Any]:
        with self._ready().begin() as connection:
            result = connection.execute(statement)
            return list(result) if result.returns_rows else []

    def _ready(self) -> sa.engine.Engine:
        if self._engine is None:
            url = sa.engine.make_url(self.url)
            if url.get_backend_name() == "sqlite" and url.database:
                Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(self.url, pool_pre_ping=True)
            _METADATA.create_all(engine, checkfirst=True)
            self._engine = engine
        return self._engine
