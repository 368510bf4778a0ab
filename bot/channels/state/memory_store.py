"""The channels' state in process memory: the embedded development default, no service.

One process only: a second Rasa server sees none of it. Bounded: beyond ``size`` keys the
least recently used go first, so that months of chats do not grow the process.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Bounded(Generic[K, V]):
    """A mapping that forgets its least recently used entries beyond ``size``."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        if key not in self._items:
            return None
        self._items.move_to_end(key)
        return self._items[key]

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def pop(self, key: K) -> V | None:
        return self._items.pop(key, None)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)


class MemoryStore:
    """``StateStore`` in a bounded dictionary (see the module docstring)."""

    def __init__(self, size: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._items: Bounded[str, tuple[float, str]] = Bounded(size)

    async def get(self, key: str) -> str | None:
        entry = self._items.get(key)
        if entry is None:
            return None
        expires_at, value = entry
        if self.clock() >= expires_at:
            self._items.pop(key)
            return None
        return value

    async def set(self, key: str, value: str, ttl: float) -> None:
        self._items.put(key, (self.clock() + ttl, value))

    async def add(self, key: str, value: str, ttl: float) -> bool:
        # No await between the check and the put: atomic within the event loop.
        if await self.get(key) is not None:
            return False
        self._items.put(key, (self.clock() + ttl, value))
        return True

    async def take(self, key: str) -> str | None:
        value = await self.get(key)
        self._items.pop(key)
        return value

    async def delete(self, key: str) -> None:
        self._items.pop(key)

    async def close(self) -> None:
        return None

    def __len__(self) -> int:
        """Keys held, expired ones included until read or pushed out (tests of the bound)."""
        return len(self._items)
