"""Phone numbers that texted STOP, kept until they text START.

In a small SQLite file (``var/sms_opt_out.sqlite3`` by default): durable, atomic, shared by
the Rasa processes of one machine (file locking), with no server to run - a JSON file would
be rewritten whole and raced by two processes. Several machines need a shared path or a
shared database.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any


class OptOutStore:
    """Phone numbers that texted STOP, in a SQLite file (see the module docstring)."""

    def __init__(self, path: Path):
        self.path = path
        self._ready = False

    async def add(self, phone: str) -> None:
        await self._run(
            "INSERT OR IGNORE INTO sms_opt_out (phone, opted_out_at) VALUES (?, ?)",
            (phone, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())),
        )

    async def remove(self, phone: str) -> None:
        await self._run("DELETE FROM sms_opt_out WHERE phone = ?", (phone,))

    async def contains(self, phone: str) -> bool:
        rows = await self._run("SELECT 1 FROM sms_opt_out WHERE phone = ?", (phone,))
        return bool(rows)

    async def _run(self, sql: str, parameters: tuple[str, ...]) -> list[tuple[Any, ...]]:
        return await asyncio.to_thread(self._execute, sql, parameters)

    def _execute(self, sql: str, parameters: tuple[str, ...]) -> list[tuple[Any, ...]]:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=10)) as db, db:
            if not self._ready:
                db.execute(
                    "CREATE TABLE IF NOT EXISTS sms_opt_out "
                    "(phone TEXT PRIMARY KEY, opted_out_at TEXT NOT NULL)"
                )
                self._ready = True
            return db.execute(sql, parameters).fetchall()
