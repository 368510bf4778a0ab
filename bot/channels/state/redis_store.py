"""The channels' state in Redis, shared by every Rasa server given the same URL.

Each key is ``<prefix><namespace><key>``: the prefix keeps deployments sharing one Redis
apart, the namespace keeps one use (SMS choices, Telegram updates...) from another. Expiry is
Redis's own (``PX``), so nothing needs sweeping. "Set if absent" is ``SET NX``, atomic across
servers; ``take`` is GET and DEL in one MULTI, so that a choice answers one message only even
when two servers read it at once.
"""

from __future__ import annotations

import math

from redis import RedisError
from redis.asyncio import Redis

from bot.channels.state.store import StateUnavailable


def milliseconds(ttl: float) -> int:
    """Redis's ``PX``: whole milliseconds, at least one (zero would be refused)."""
    return max(1, math.ceil(ttl * 1000))


class RedisStore:
    """``StateStore`` on one Redis client (see the module docstring).

    Args:
        client: usually shared by the stores of one ``ChannelState``, which closes it.
        prefix: put before every key, namespace included (e.g. ``"assistant:sms:choice:"``).
        owns_client: close ``client`` in ``close`` (a store used on its own).
    """

    def __init__(self, client: Redis, prefix: str, *, owns_client: bool = False) -> None:
        self.client = client
        self.prefix = prefix
        self.owns_client = owns_client

    async def get(self, key: str) -> str | None:
        try:
            value = await self.client.get(self.prefix + key)
        except RedisError as error:
            raise StateUnavailable(type(error).__name__) from error
        return _text(value)

    async def set(self, key: str, value: str, ttl: float) -> None:
        try:
            await self.client.set(self.prefix + key, value, px=milliseconds(ttl))
        except RedisError as error:
            raise StateUnavailable(type(error).__name__) from error

    async def add(self, key: str, value: str, ttl: float) -> bool:
        try:
            added = await self.client.set(self.prefix + key, value, px=milliseconds(ttl), nx=True)
        except RedisError as error:
            raise StateUnavailable(type(error).__name__) from error
        return bool(added)

    async def take(self, key: str) -> str | None:
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                value, _ = await pipe.get(self.prefix + key).delete(self.prefix + key).execute()
        except RedisError as error:
            raise StateUnavailable(type(error).__name__) from error
        return _text(value)

    async def delete(self, key: str) -> None:
        try:
            await self.client.delete(self.prefix + key)
        except RedisError as error:
            raise StateUnavailable(type(error).__name__) from error

    async def close(self) -> None:
        if self.owns_client:
            await self.client.close(close_connection_pool=True)


def _text(value: bytes | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.decode("utf-8")
