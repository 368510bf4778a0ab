"""The lock store Rasa uses, chosen by the settings: one conversation's messages in order.

Rasa handles the messages of one conversation one at a time, in the order they arrived, by
taking a ticket in its lock store (``Agent.handle_message``). The default lock store is the
process's memory: right for one Rasa server, useless for several, where two messages of one
tenant sent at once may reach two servers. ``endpoints.yml`` names this class; it puts Rasa's
``RedisLockStore`` behind it when ``LOCK_STORE_REDIS_URL`` is set (every Rasa server given the
same URL and ``LOCK_STORE_KEY_PREFIX`` shares the tickets), Rasa's in-memory store otherwise.
No ``${...}`` in ``endpoints.yml``: a tool that reads the file without the variables still can.

Rasa's tickets live 60 s from when they are issued, and a waiting message polls once a second.
A server that dies during a turn leaves its ticket behind: the conversation's next message,
on the other server, waited the rest of the minute; and a ticket that expired while its
message was still waiting (behind a dead one, or a long queue) was never served at all, its
request hanging until the client gave up (seen in tests/faults: a tenant waited 90 s for
nothing). Here a ticket is a lease: issued for ``LOCK_TICKET_SECONDS`` (10 s), renewed every
third of that while its message waits or is handled, so only a dead server's ticket runs out,
and soon; a message whose ticket was dropped anyway takes a new one; waiting polls every 50 ms.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote, urlsplit

from rasa.core.lock import TicketLock
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore

from bot.settings import Settings

log = logging.getLogger(__name__)


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

    #: How often a waiting message looks whether its turn has come.
    poll_seconds = 0.05

    def __init__(self, endpoint_config: Any = None, settings: Settings | None = None) -> None:
        settings = settings or Settings.from_env()
        self.store = lock_store_for(settings)
        self.lifetime = settings.lock_ticket_seconds

    @contextlib.asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float | None = None,
        wait_time_in_seconds: float | None = None,
    ) -> AsyncIterator[TicketLock]:
        """The conversation's lock, held by a renewed ticket until the block ends.

        Rasa's own arguments are accepted and ignored: the lease and the polling are ours.
        """
        ticket = [self.issue_ticket(conversation_id, self.lifetime)]
        renewing = asyncio.create_task(self._renew(conversation_id, ticket))
        try:
            yield await self._wait_for_turn(conversation_id, ticket)
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
            self.cleanup(conversation_id, ticket[0])

    async def _wait_for_turn(self, conversation_id: str, ticket: list[int]) -> TicketLock:
        """Until ``ticket[0]`` is served; a ticket dropped meanwhile is replaced by a new one."""
        while True:
            lock = self.get_lock(conversation_id)
            if lock is None or lock._ticket_for_ticket_number(ticket[0]) is None:
                ticket[0] = self.issue_ticket(conversation_id, self.lifetime)
                continue
            if not lock.is_locked(ticket[0]):
                return lock
            await asyncio.sleep(self.poll_seconds)

    async def _renew(self, conversation_id: str, ticket: list[int]) -> None:
        """Push the ticket's expiry forward every third of its lifetime while it is held.

        A renewal Redis misses is logged and tried again at the next third: the turn goes on
        (the ticket holds for two more thirds), and its end still removes the ticket.
        """
        while True:
            await asyncio.sleep(self.lifetime / 3)
            try:
                lock = self.get_lock(conversation_id)
                held = lock and lock._ticket_for_ticket_number(ticket[0])
                if held:
                    held.expires = time.time() + self.lifetime
                    self.save_lock(lock)
            except Exception as error:  # noqa: BLE001 - Redis's errors have many types
                log.warning("lock ticket not renewed (%s)", type(error).__name__)

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        return self.store.get_lock(conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        self.store.delete_lock(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        self.store.save_lock(lock)
