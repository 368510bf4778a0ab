"""The lock store Rasa uses, chosen by the settings: one conversation's messages in order.

Rasa handles the messages of one conversation one at a time, in the order they arrived, by
taking a ticket in its lock store (``Agent.handle_message``). The default lock store is the
process's memory: right for one Rasa server, useless for several, where two messages of one
tenant sent at once may reach two servers. ``endpoints.yml`` names this class; it puts Rasa's
``RedisLockStore`` behind it when ``LOCK_STORE_REDIS_URL`` is set (every Rasa server given the
same URL and ``LOCK_STORE_KEY_PREFIX`` shares the tickets), Rasa's in-memory store otherwise.
No ``${...}`` in ``endpoints.yml``: a tool that reads the file without the variables still can.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from rasa.core.lock import TicketLock
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore

from bot.settings import Settings


def redis_lock_store(url: str, key_prefix: str) -> RedisLockStore:
    """Rasa's ``RedisLockStore`` on ``redis://[user:password@]host[:port][/db]``
    (``rediss://`` for TLS); its keys start with ``key_prefix`` (letters and digits)."""
    parts = urlsplit(url)
    database = parts.path.strip("/")
    return RedisLockStore(
        host=parts.hostname or "localhost",
        port=parts.port or 6379,
        db=int(database) if database else 1,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_ssl=parts.scheme == "rediss",
        key_prefix=key_prefix,
    )


def lock_store_for(settings: Settings) -> LockStore:
    """Redis when the settings give a URL, else this process's memory."""
    if settings.lock_store_redis_url:
        return redis_lock_store(settings.lock_store_redis_url, settings.lock_store_key_prefix)
    return InMemoryLockStore()


class SettingsLockStore(LockStore):
    """The lock store of the settings, behind the class name ``endpoints.yml`` gives Rasa."""

    def __init__(self, endpoint_config: Any = None, settings: Settings | None = None) -> None:
        self.store = lock_store_for(settings or Settings.from_env())

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        return self.store.get_lock(conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        self.store.delete_lock(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        self.store.save_lock(lock)
