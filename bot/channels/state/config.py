"""Which store the channels' state goes to, from the channel's credentials or the settings.

``state_redis_url`` in a channel's ``credentials.yml`` block, else ``CHANNEL_STATE_REDIS_URL``:
Redis, shared by every Rasa server given that URL; neither: process memory (development,
one server). ``state_key_prefix`` / ``CHANNEL_STATE_KEY_PREFIX`` goes before every key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from bot.channels.state.memory_store import MemoryStore
from bot.channels.state.redis_store import RedisStore
from bot.channels.state.store import StateStore
from bot.settings import Settings

#: Seconds Redis has to connect and to answer: a webhook must not hang on it.
REDIS_TIMEOUT = 2.0


@dataclass
class ChannelState:
    """Makes one store per use of a channel's state, all on the same backend.

    Args:
        redis_url: ``redis://...`` (or ``rediss://``, ``unix://``); empty: process memory.
        key_prefix: before every Redis key, so that deployments can share one Redis.
    """

    redis_url: str = ""
    key_prefix: str = ""
    _client: Redis | None = field(default=None, init=False, repr=False)

    @classmethod
    def from_settings(
        cls, credentials: Mapping[str, Any] | None = None, settings: Settings | None = None
    ) -> ChannelState:
        """The channel's ``state_redis_url`` / ``state_key_prefix``, else the settings'
        (``settings``, or read from the environment)."""
        credentials = credentials or {}
        url = credentials.get("state_redis_url")
        prefix = credentials.get("state_key_prefix")
        if not url or prefix is None:
            settings = settings or Settings.from_env()
            url = url or settings.channel_state_redis_url
            prefix = settings.channel_state_key_prefix if prefix is None else prefix
        return cls(redis_url=str(url or ""), key_prefix=str(prefix))

    @property
    def shared(self) -> bool:
        """Whether other processes see this state (Redis) or only this one (memory)."""
        return bool(self.redis_url)

    def store(self, namespace: str, size: int) -> StateStore:
        """The store of one use: keys under ``<prefix><namespace>:`` in Redis; in memory, a
        store of its own holding at most ``size`` keys."""
        if not self.redis_url:
            return MemoryStore(size)
        if self._client is None:
            # Connects on first use, in the loop that uses it (the server's).
            self._client = Redis.from_url(
                self.redis_url,
                socket_timeout=REDIS_TIMEOUT,
                socket_connect_timeout=REDIS_TIMEOUT,
            )
        return RedisStore(self._client, f"{self.key_prefix}{namespace}:")

    async def close(self) -> None:
        """Close the Redis connections (nothing to do in memory)."""
        if self._client is not None:
            client, self._client = self._client, None
            await client.close(close_connection_pool=True)
