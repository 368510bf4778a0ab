"""What the SMS channel keeps in memory, per Rasa process: the numbered choices offered to
each number (one hour), and one lock per number while it has messages in hand.

Losing the choices at a restart only means that "2" goes to Rasa as typed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from bot.channels.common import Bounded


class ChoiceMemory:
    """The button payloads last offered to each phone number, for ``ttl`` seconds."""

    def __init__(
        self,
        *,
        size: int = 10_000,
        ttl: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.ttl, self.clock = ttl, clock
        self._offers: Bounded[str, tuple[float, list[str]]] = Bounded(size)

    def remember(self, phone: str, payloads: list[str]) -> None:
        self._offers.put(phone, (self.clock(), payloads))

    def take(self, phone: str) -> list[str]:
        """The payloads offered to ``phone``, forgotten: they answer one message only."""
        offered_at, payloads = self._offers.pop(phone) or (0.0, [])
        return payloads if self.clock() - offered_at <= self.ttl else []


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
