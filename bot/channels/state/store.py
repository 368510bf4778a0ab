"""The one interface of the channels' state: a few string values under keys, each with an
expiry, so that memory and Redis can stand in for each other."""

from __future__ import annotations

from typing import Protocol


class StateUnavailable(Exception):
    """The store could not be reached: the caller decides whether to go on without it."""


class StateStore(Protocol):
    """String values under string keys, each forgotten ``ttl`` seconds after it was set.

    Every method may raise ``StateUnavailable``.
    """

    async def get(self, key: str) -> str | None:
        """The value under ``key``; None when absent or expired."""
        ...

    async def set(self, key: str, value: str, ttl: float) -> None:
        """Put ``value`` under ``key`` (replacing any) for ``ttl`` seconds."""
        ...

    async def add(self, key: str, value: str, ttl: float) -> bool:
        """Put ``value`` under ``key`` only if it is absent; True if it was put.

        Atomic: of two servers adding the same key at once, one only gets True. That is
        what makes a webhook delivery handled once.
        """
        ...

    async def take(self, key: str) -> str | None:
        """The value under ``key``, removed in the same step (an answer used once)."""
        ...

    async def delete(self, key: str) -> None:
        """Forget ``key`` (nothing happens when it is absent)."""
        ...

    async def close(self) -> None:
        """Release connections; the store is not used afterwards."""
        ...
