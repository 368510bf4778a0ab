"""A database made by an earlier version keeps working: new tables and new optional columns are
added at start-up; a new required column stops start-up with a French explanation."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, inspect, text

from bot.portal.db import SchemaOutdated, add_missing_columns, create_database, create_engine


async def columns(engine, table: str) -> set[str]:
    async with engine.connect() as connection:
        found = await connection.run_sync(lambda sync: inspect(sync).get_columns(table))
    return {column["name"] for column in found}


async def test_an_optional_column_added_since_is_created_in_place(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        await create_database(engine)
        async with engine.begin() as connection:  # as the previous version left it
            await connection.execute(text("ALTER TABLE one_time_tokens DROP COLUMN new_email"))
        assert "new_email" not in await columns(engine, "one_time_tokens")

        await create_database(engine)

        assert "new_email" in await columns(engine, "one_time_tokens")
    finally:
        await engine.dispose()


async def test_a_missing_required_column_is_named(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    newer = MetaData()
    Table("things", newer, Column("id", Integer, primary_key=True), Column("name", String(9)))
    Table("things2", newer, Column("id", Integer, primary_key=True))
    required = MetaData()
    Table(
        "things",
        required,
        Column("id", Integer, primary_key=True),
        Column("name", String(9)),
        Column("kind", String(9), nullable=False),
    )
    try:
        async with engine.begin() as connection:
            await connection.run_sync(newer.create_all)
            with pytest.raises(SchemaOutdated, match="things.kind"):
                await connection.run_sync(add_missing_columns, required)
    finally:
        await engine.dispose()
