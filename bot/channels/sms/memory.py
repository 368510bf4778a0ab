"""What the SMS channel remembers between webhook calls, in a ``StateStore`` (memory or
Redis, see ``bot.channels.state``):

- ``ChoiceMemory``: the numbered choices offered to each number (one hour), so that "2"
  reaches Rasa as the second button's payload on whichever server Twilio's webhook reaches;
- ``SeenMessages``: the MessageSids accepted (one day), so that a delivery Twilio repeats,
  to this server or another, is handled once;
- ``SenderLocks``: one lock per number while it has messages in hand (this process only).

Losing the choices (restart of a memory store, Redis unreachable) only means that "2" goes
to Rasa as typed: those failures are logged, not raised.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.channels.sms.log_safe import mask_phone
from bot.channels.state import StateStore, StateUnavailable

logger = logging.getLogger(__name__)

#: How long numbered choices answer the tenant's next message.
CHOICES_TTL = 3600.0
#: How long a MessageSid is remembered: Twilio's repeated deliveries come within minutes.
SEEN_TTL = 24 * 3600.0
#: Keys a memory store holds (Redis needs no bound: keys expire).
MEMORY_SIZE = 10_000


class ChoiceMemory:
    """The button payloads last offered to each phone number, for ``ttl`` seconds."""

    def __init__(self, store: StateStore, *, ttl: float = CHOICES_TTL) -> None:
        self.store, self.ttl = store, ttl

    async def remember(self, phone: str, payloads: list[str]) -> None:
        try:
            await self.store.set(phone, json.dumps(payloads), self.ttl)
        except StateUnavailable as error:
            logger.warning("SMS to %s: choices not remembered (%s)", mask_phone(phone), error)

    async def take(self, phone: str) -> list[str]:
        """The payloads offered to ``phone``, forgotten: they answer one message only."""
        try:
            stored = await self.store.take(phone)
        except StateUnavailable as error:
            logger.warning("SMS from %s: choices not read (%s)", mask_phone(phone), error)
            return []
        payloads = json.loads(stored) if stored else []
        return [str(payload) for payload in payloads] if isinstance(payloads, list) else []


class SeenMessages:
    """The MessageSids accepted lately: Twilio delivers some messages twice."""

    def __init__(self, store: StateStore, *, ttl: float = SEEN_TTL) -> None:
        self.store, self.ttl = store, ttl

    async def first_time(self, sid: str) -> bool:
        """Remember ``sid``; False when it was accepted before (here or on another server).

        Raises ``StateUnavailable`` when the store cannot tell.
        """
        return await self.store.add(sid, "1", self.ttl)


class SenderLocks:
    """One lock per phone number while it has messages in hand: handled in arrival order."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, phone: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(phone, (None, 0))
        lock = lock or asyncio.Lock()
        self._locks[phone] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[phone]
            if users == 1:
                del self._locks[phone]
            else:
                self._locks[phone] = (lock, users - 1)
