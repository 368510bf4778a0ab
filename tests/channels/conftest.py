"""Fixtures of the channel tests: channel state on the test Redis, each test under a key
prefix of its own (deleted afterwards); those tests skip, saying why, when Redis is down."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from bot.channels.state import ChannelState
from tests.channels.redis_state import REDIS_URL, delete_prefixed, redis_reachable


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A key prefix no other test uses; its keys are deleted after the test."""
    reason = await redis_reachable()
    if reason is not None:
        pytest.skip(reason)
    prefix = f"test-channels-{uuid.uuid4().hex}:"
    yield prefix
    await delete_prefixed(prefix)


@pytest.fixture
async def shared_state(redis_prefix: str) -> AsyncIterator[Callable[[], ChannelState]]:
    """Makes ``ChannelState``s on the test Redis and prefix, as several Rasa servers would
    each have their own; all closed after the test."""
    made: list[ChannelState] = []

    def make() -> ChannelState:
        made.append(ChannelState(redis_url=REDIS_URL, key_prefix=redis_prefix))
        return made[-1]

    yield make
    for state in made:
        await state.close()
