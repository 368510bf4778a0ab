"""Alembic migrations of the portal schema, driven from Python (no ``alembic.ini``).

Why here: the portal creates and upgrades its own database at start-up
(``db.create_database``), on SQLite files in development and PostgreSQL in production, so the
Alembic configuration is built in code from the engine the portal already has. ``env.py``
runs the scripts of ``versions/`` on the connection handed to it in ``Config.attributes``.

``python -m bot.portal.migrations revision "what changed"`` writes the next revision.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

from bot.portal.models import Base
from bot.privacy.files import private_sqlite_url

FOLDER = Path(__file__).resolve().parent
#: The revision that creates the schema as ``Base.metadata.create_all`` made it before
#: migrations existed; a database made by an earlier version is stamped at it.
FIRST_REVISION = "0001"


def include_name(name: str | None, type_: str, parents: dict[str, Any]) -> bool:
    """Compare only the portal's own tables: a PostgreSQL database shared with Rasa's tracker
    store (``events``) must not make autogenerate propose dropping Rasa's tables."""
    if type_ != "table":
        return True
    return name in Base.metadata.tables


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write the portal's column types (``UTCDateTime``, ``Money``, ``EncryptedText``...) as the
    SQLAlchemy type they store as: a migration must not import models that will change."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


#: What ``env.py`` and ``schema_differences`` give Alembic, so both compare alike.
CONTEXT_OPTIONS: dict[str, Any] = {
    "compare_type": True,
    "include_name": include_name,
    "render_item": render_item,
    # SQLite alters a table by copying it: autogenerate writes batch operations, which
    # PostgreSQL runs as plain ALTER TABLE.
    "render_as_batch": True,
}


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """The Alembic configuration of the portal: on ``connection`` if given, else on ``url``."""
    config = Config()
    config.set_main_option("script_location", str(FOLDER))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migration in bot/portal/migrations/versions"
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is stamped at; ``None`` if it has no ``alembic_version``."""
    return MigrationContext.configure(connection).get_current_revision()


def is_unversioned(connection: Connection, metadata: MetaData) -> bool:
    """Whether the database has portal tables but no revision stamped: made by ``create_all``
    before migrations (or, on SQLite, where each DDL statement commits on its own, left half
    made by an interrupted first upgrade)."""
    tables = set(inspect(connection).get_table_names())
    return bool(tables & set(metadata.tables)) and current_revision(connection) is None


def first_revision_tables(dialect: Dialect) -> list[str]:
    """The tables the first revision creates, in its order, read from the SQL it would run
    (nothing is executed): a database made before migrations gets those it lacks before being
    stamped, and never a table a later revision creates."""
    script = ScriptDirectory.from_config(alembic_config()).get_revision(FIRST_REVISION)
    assert script is not None
    buffer = io.StringIO()
    context = MigrationContext.configure(
        dialect=dialect, opts={"as_sql": True, "output_buffer": buffer}
    )
    with Operations.context(context):
        script.module.upgrade()
    return re.findall(r"^CREATE TABLE (\w+)", buffer.getvalue(), flags=re.MULTILINE)


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Run the migrations up to ``revision`` in the connection's transaction."""
    command.upgrade(alembic_config(connection), revision)


def stamp(connection: Connection, revision: str) -> None:
    """Record ``revision`` as applied without running it."""
    command.stamp(alembic_config(connection), revision)


def schema_differences(connection: Connection, metadata: MetaData = Base.metadata) -> list[Any]:
    """What the database lacks or has more than the models (``compare_metadata``): empty when
    every model change has its migration."""
    context = MigrationContext.configure(connection, opts=CONTEXT_OPTIONS)
    return compare_metadata(context, metadata)


async def upgrade_to_head(engine_or_url: AsyncEngine | str) -> None:
    """Upgrade the database to the latest revision (tables created on an empty one)."""
    if isinstance(engine_or_url, str):
        private_sqlite_url(engine_or_url)  # a SQLite file holds personal data: owner only
        engine = create_async_engine(engine_or_url, poolclass=NullPool)
        try:
            await upgrade_to_head(engine)
        finally:
            await engine.dispose()
        return
    async with engine_or_url.begin() as connection:
        await connection.run_sync(upgrade)
