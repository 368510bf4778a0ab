"""Files holding personal data are readable by their owner only, whatever the umask.

The portal database, Rasa's tracker store, the SMS opt-out list and the dev Maildir are
SQLite files or emails on disk: with the usual umask (022) they would be created 0644, so any
account of the machine could read IBANs, transcripts and reset links.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import URL, make_url

OWNER_ONLY = 0o600
OWNER_ONLY_DIR = 0o700
#: The files SQLite keeps next to a database (it gives them the database's mode).
_SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def private_file(path: Path) -> Path:
    """Create ``path`` empty if it is missing, and leave it readable by its owner only.

    Creating it first (``O_CREAT`` with mode 0600) means it is never readable by others, not
    even for the moment between its creation and a ``chmod``. An empty file is a valid empty
    SQLite database.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, OWNER_ONLY))
    os.chmod(path, OWNER_ONLY)
    return path


def private_sqlite_file(path: Path) -> Path:
    """``private_file`` for a SQLite database, and the same mode for its WAL and journal."""
    private_file(path)
    for suffix in _SQLITE_SIDE_FILES:
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.chmod(side, OWNER_ONLY)
    return path


def sqlite_path(url: str | URL) -> Path | None:
    """The file of a SQLAlchemy SQLite URL; ``None`` for other databases, memory or URIs."""
    parsed = make_url(url) if isinstance(url, str) else url
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return None
    if database.startswith("file:"):  # a URI (read-only readers): not ours to create
        return None
    return Path(database)


def private_sqlite_url(url: str | URL) -> None:
    """Make the SQLite file of ``url`` (if it is one) readable by its owner only."""
    path = sqlite_path(url)
    if path is not None:
        private_sqlite_file(path)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) and leave it enterable by its owner only."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, OWNER_ONLY_DIR)
    return path
