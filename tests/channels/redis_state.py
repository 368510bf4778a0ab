"""The test Redis (127.0.0.1:6379, or ``TEST_REDIS_URL``) for the channels' shared state:
whether it answers, and deleting a test's keys (fixtures in ``conftest.py``)."""

from __future__ import annotations

import os

from redis import RedisError
from redis.asyncio import Redis

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def redis_reachable() -> str | None:
    """None when the test Redis answers, else why not."""
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        await client.ping()
    except (RedisError, OSError) as error:
        return f"Redis unreachable at {REDIS_URL} ({type(error).__name__})"
    finally:
        await client.close(close_connection_pool=True)
    return None


async def delete_prefixed(prefix: str) -> None:
    client = Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.close(close_connection_pool=True)
