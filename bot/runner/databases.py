"""The PostgreSQL server of the production run: its URLs for each client, its databases made.

One server address (``PRODUCTION_POSTGRES_URL``, ``postgresql://user[:password]@host:port``)
gives three spellings, because each client wants its own: the portal's SQLAlchemy async URL
(asyncpg), Rasa's tracker store URL (psycopg2; given whole as ``RASA_TRACKER_HOST``, the only
way ``endpoints.yml`` can pass a user and a password to Rasa's ``SQLTrackerStore``), and
asyncpg's plain DSN for the administration database, where missing databases are created.
The portal's tables are made by its migrations and the tracker's by Rasa: only the databases
themselves must exist beforehand.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.runner.errors import RunnerError

DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432"
DEFAULT_ADMIN_DATABASE = "postgres"
#: Database names are put in SQL statements: plain identifiers only.
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class DatabaseUnavailable(RunnerError):
    """The PostgreSQL server refused or did not answer; the message says which address."""


@dataclass(frozen=True)
class PostgresServer:
    """A PostgreSQL server reached as ``netloc`` (``user[:password]@host:port``)."""

    netloc: str
    admin_database: str = DEFAULT_ADMIN_DATABASE

    @classmethod
    def from_url(cls, url: str) -> PostgresServer:
        """``postgresql://user@host:port[/admin_database]``; any driver suffix is dropped."""
        parts = urlsplit(url)
        if not parts.scheme.startswith(("postgresql", "postgres")) or not parts.hostname:
            raise RunnerError(
                f"PRODUCTION_POSTGRES_URL doit être de la forme "
                f"postgresql://utilisateur@hôte:port (reçu : {redacted(url)})."
            )
        return cls(parts.netloc, parts.path.strip("/") or DEFAULT_ADMIN_DATABASE)

    def asyncpg_url(self, database: str) -> str:
        """SQLAlchemy's async URL (the portal, the staff console's tracker reads)."""
        return f"postgresql+asyncpg://{self.netloc}/{database}"

    def rasa_url(self, database: str) -> str:
        """The URL Rasa's ``SQLTrackerStore`` takes whole in its host (psycopg2)."""
        return f"postgresql://{self.netloc}/{database}"

    def dsn(self, database: str) -> str:
        """asyncpg's own DSN."""
        return f"postgresql://{self.netloc}/{database}"

    @property
    def display(self) -> str:
        """The address without its password, for messages."""
        return redacted(f"postgresql://{self.netloc}")


def redacted(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def check_database_name(name: str) -> str:
    if not _NAME.match(name):
        raise RunnerError(
            f"Nom de base PostgreSQL refusé : {name!r} (lettres, chiffres et _ seulement)."
        )
    return name


async def ensure_databases(server: PostgresServer, names: list[str]) -> list[str]:
    """Create the databases of ``names`` that do not exist yet; return the created ones."""
    import asyncpg

    for name in names:
        check_database_name(name)
    try:
        connection = await asyncpg.connect(dsn=server.dsn(server.admin_database), timeout=5)
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError) as error:
        raise DatabaseUnavailable(
            f"PostgreSQL ne répond pas sur {server.display} (base {server.admin_database}) : "
            f"{error}. Démarrez-le ou indiquez son adresse dans PRODUCTION_POSTGRES_URL."
        ) from error
    created = []
    try:
        for name in names:
            exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await connection.execute(f'CREATE DATABASE "{name}"')
                created.append(name)
    finally:
        await connection.close()
    return created


async def drop_databases(server: PostgresServer, names: list[str]) -> None:
    """Drop ``names`` even while connections remain (tests clean up after themselves)."""
    import asyncpg

    connection = await asyncpg.connect(dsn=server.dsn(server.admin_database), timeout=5)
    try:
        for name in names:
            check_database_name(name)
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()
