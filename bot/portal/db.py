"""Engine and session factory; nothing connects until ``create_database`` is awaited."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import (
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    event,
    func,
    inspect,
    or_,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.sql.expression import ColumnElement

from bot.portal import migrations
from bot.portal.models import Base, OutboxAttachment, OutboxEmail
from bot.portal.models.encrypted import FERNET_PREFIX, EncryptedBytes, EncryptedText
from bot.privacy.files import private_sqlite_url

log = logging.getLogger(__name__)

#: ``pg_advisory_xact_lock`` key held while the schema is migrated ("portal" in ASCII).
_MIGRATION_LOCK = 0x706F7274616C


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
    """Bring the database to the latest migration; leave no secret in clear.

    An empty database gets every revision of ``migrations/versions``. One made by an earlier
    version with ``create_all`` (no ``alembic_version`` table) gets the tables it lacks and is
    stamped at the first revision, whose schema it then has, before the upgrade. Optional
    columns a database still lacks are then added in place; a required one stops start-up with
    its name. A SQLite file is readable by its owner only. What an earlier version kept in
    clear is sealed (``seal_legacy_secrets``). All in one transaction.
    """
    private_sqlite_url(engine.url)
    async with engine.begin() as connection:
        added = await connection.run_sync(_migrate)
        sealed = await connection.run_sync(seal_legacy_secrets, Base.metadata)
    for column in added:
        log.info("schema: added column %s", column)
    for what in sealed:
        log.info("secrets at rest: %s", what)


def _migrate(connection: Connection) -> list[str]:
    """Upgrade to head (stamping a database made before migrations first); return the
    optional columns added in place."""
    if connection.dialect.name == "postgresql":
        # Portal workers start together: one migrates, the others wait and find it at head.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
    if migrations.is_unversioned(connection, Base.metadata):
        first = migrations.first_revision_tables(connection.dialect)
        tables = [table for name, table in Base.metadata.tables.items() if name in first]
        Base.metadata.create_all(connection, tables=tables)
        migrations.stamp(connection, migrations.FIRST_REVISION)
        log.info("schema: database made before migrations, stamped %s", migrations.FIRST_REVISION)
    migrations.upgrade(connection)
    # After the upgrade, so that a later revision adding a column never finds it there: what
    # a database made before migrations still lacks (columns added in place by earlier
    # versions) and, should one be forgotten, a model's optional column without its revision.
    return add_missing_columns(connection, Base.metadata)


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


def seal_legacy_secrets(connection: Connection, metadata: MetaData) -> list[str]:
    """What earlier versions kept in clear: bodies and attachments of emails already sent or
    given up on are emptied, and clear values of encrypted columns encrypted (widened first
    where the database enforces a length). Idempotent; return what was done."""
    done = []
    emails, attachments = OutboxEmail.__table__, OutboxAttachment.__table__
    finished = or_(emails.c.sent_at.is_not(None), emails.c.failed_at.is_not(None))
    cleared = connection.execute(
        update(emails).where(finished, emails.c.text_body != "").values(text_body="")
    ).rowcount
    connection.execute(
        update(attachments)
        .where(
            attachments.c.email_id.in_(select(emails.c.id).where(finished)),
            func.length(attachments.c.data) > 0,
        )
        .values(data=b"")
    )
    if cleared:
        done.append(f"{cleared} delivered email(s) emptied")
    for table in metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, (EncryptedText, EncryptedBytes)):
                _widen(connection, table, column.name)
                count = _seal_column(connection, table, column.name)
                if count:
                    done.append(f"{table.name}.{column.name}: {count} value(s) encrypted")
    return done


def _widen(connection: Connection, table: Table, name: str) -> None:
    """A column that was ``VARCHAR(34)`` (an IBAN in clear) becomes ``TEXT``: tokens are longer."""
    if connection.dialect.name == "sqlite":  # SQLite does not enforce lengths
        return
    present = {c["name"]: c["type"] for c in inspect(connection).get_columns(table.name)}
    if isinstance(present.get(name), String) and getattr(present[name], "length", None):
        connection.execute(text(f"ALTER TABLE {table.name} ALTER COLUMN {name} TYPE TEXT"))


def _seal_column(connection: Connection, table: Table, name: str) -> int:
    column = table.c[name]
    is_text = isinstance(column.type, EncryptedText)
    raw = type_coerce(column, Text() if is_text else LargeBinary())
    prefix = FERNET_PREFIX if is_text else FERNET_PREFIX.encode("ascii")
    head = type_coerce(func.substr(raw, 1, len(prefix)), raw.type)
    clear = select(*table.primary_key.columns).where(
        raw.is_not(None), func.length(raw) > 0, head != prefix
    )
    count = 0
    for key in connection.execute(clear).all():
        value = connection.execute(select(raw).where(*_same_key(table, key))).scalar_one()
        # Written through the column's type, which encrypts.
        connection.execute(update(table).where(*_same_key(table, key)).values({name: value}))
        count += 1
    return count


def _same_key(table: Table, key: Sequence[object]) -> list[ColumnElement]:
    return [column == part for column, part in zip(table.primary_key.columns, key, strict=True)]
