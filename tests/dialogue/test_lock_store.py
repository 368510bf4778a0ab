"""One conversation's messages are handled one at a time and in order, also when two Rasa
servers share the work (issue 12): the lock store ``endpoints.yml`` names is Rasa's in-memory
store by default and Rasa's Redis store, with our key prefix, when ``LOCK_STORE_REDIS_URL`` is
set; two stores on one Redis (two servers) serve two messages of one conversation in turn."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest
import redis
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.utils.endpoints import read_endpoint_config

from bot.dialogue.lock_store import SettingsLockStore, redis_lock_store
from bot.settings import PROJECT_ROOT, Settings, SettingsError
from tests.channels.redis_state import REDIS_URL


def endpoints_lock_store(monkeypatch: pytest.MonkeyPatch) -> LockStore:
    """What Rasa builds from ``endpoints.yml`` (the other endpoints' variables set as the
    runner sets them)."""
    for name, value in {
        "ACTION_ENDPOINT_URL": "http://127.0.0.1:5055/webhook",
        "ACTION_SERVER_TOKEN": "a-token",
        "RASA_TRACKER_DIALECT": "sqlite",
        "RASA_TRACKER_HOST": "",
        "RASA_TRACKER_DB": "tracker.db",
    }.items():
        monkeypatch.setenv(name, value)
    return LockStore.create(read_endpoint_config(str(PROJECT_ROOT / "endpoints.yml"), "lock_store"))


@pytest.fixture
def prefix() -> str:
    return f"test{secrets.token_hex(4)}"


@pytest.fixture
async def shared_redis(prefix: str) -> AsyncIterator[str]:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except (redis.RedisError, OSError) as error:
        pytest.skip(f"Redis unreachable at {REDIS_URL} ({type(error).__name__})")
    yield REDIS_URL
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)
    client.close()


def test_one_server_keeps_its_tickets_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOCK_STORE_REDIS_URL", raising=False)
    store = endpoints_lock_store(monkeypatch)
    assert isinstance(store, SettingsLockStore)
    assert isinstance(store.store, InMemoryLockStore)


def test_several_servers_share_their_tickets_in_redis(
    monkeypatch: pytest.MonkeyPatch, prefix: str
) -> None:
    monkeypatch.setenv("LOCK_STORE_REDIS_URL", "redis://:s%40cret@127.0.0.1:6380/3")
    monkeypatch.setenv("LOCK_STORE_KEY_PREFIX", prefix)
    store = endpoints_lock_store(monkeypatch)
    assert isinstance(store.store, RedisLockStore)
    assert store.store.key_prefix == f"{prefix}:lock:"
    connection = store.store.red.connection_pool.connection_kwargs
    assert (connection["host"], connection["port"], connection["db"]) == ("127.0.0.1", 6380, 3)
    assert connection["password"] == "s@cret"


def test_a_prefix_rasa_would_ignore_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCK_STORE_KEY_PREFIX", "tenant-assistant")
    with pytest.raises(SettingsError, match="LOCK_STORE_KEY_PREFIX"):
        Settings.from_env()


async def test_two_servers_handle_one_conversations_messages_in_turn(
    shared_redis: str, prefix: str
) -> None:
    settings = Settings(lock_store_redis_url=shared_redis, lock_store_key_prefix=prefix)
    first_server, second_server = (
        SettingsLockStore(settings=settings),
        SettingsLockStore(settings=settings),
    )
    timeline: list[str] = []

    async def handle(server: LockStore, conversation: str, message: str, seconds: float) -> None:
        async with server.lock(conversation, wait_time_in_seconds=0.05):
            timeline.append(f"{message} starts")
            await asyncio.sleep(seconds)
            timeline.append(f"{message} ends")

    first = asyncio.create_task(handle(first_server, "rest:tenant-1", "first", 0.4))
    await asyncio.sleep(0.1)  # the second message arrives while the first is handled
    second = asyncio.create_task(handle(second_server, "rest:tenant-1", "second", 0.05))
    other = asyncio.create_task(handle(second_server, "rest:tenant-2", "other", 0.05))
    await asyncio.wait_for(asyncio.gather(first, second, other), timeout=10)

    mine = [event for event in timeline if not event.startswith("other")]
    assert mine == ["first starts", "first ends", "second starts", "second ends"]
    # Another tenant's message did not wait for this conversation.
    assert timeline.index("other ends") < timeline.index("first ends")


def test_the_redis_url_is_read_as_redis_clients_read_it() -> None:
    store = redis_lock_store("rediss://user@cache.internal", "abc")
    connection = store.red.connection_pool.connection_kwargs
    assert (connection["host"], connection["port"], connection["db"]) == ("cache.internal", 6379, 1)
    assert connection["username"] == "user"
    assert store.red.connection_pool.connection_class.__name__ == "SSLConnection"


def two_servers(redis_url: str, prefix: str, ticket_seconds: float) -> list[SettingsLockStore]:
    settings = Settings(
        lock_store_redis_url=redis_url,
        lock_store_key_prefix=prefix,
        lock_ticket_seconds=ticket_seconds,
    )
    return [SettingsLockStore(settings=settings), SettingsLockStore(settings=settings)]


def die_holding(server: LockStore, conversation: str) -> None:
    loop = asyncio.new_event_loop()
    loop.run_until_complete(server.lock(conversation).__aenter__())
    for task in asyncio.all_tasks(loop):
        task.cancel()  # the loop is dropped with them: they never run again
    loop.close()


async def test_a_turn_longer_than_the_ticket_keeps_the_conversation_and_the_next_one_waits(
    shared_redis: str, prefix: str
) -> None:
    first_server, second_server = two_servers(shared_redis, prefix, ticket_seconds=1)
    timeline: list[str] = []

    async def handle(server: LockStore, message: str, seconds: float) -> None:
        async with server.lock("rest:tenant-1"):
            timeline.append(f"{message} starts")
            await asyncio.sleep(seconds)
            timeline.append(f"{message} ends")

    # Rasa's tickets expired 1 s after they were issued whatever happened: the second
    # message would start during the first, or (its own ticket expired while waiting) never.
    first = asyncio.create_task(handle(first_server, "first", 2.5))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(handle(second_server, "second", 0.05))
    await asyncio.wait_for(asyncio.gather(first, second), timeout=10)

    assert timeline == ["first starts", "first ends", "second starts", "second ends"]


async def test_a_server_that_died_during_a_turn_holds_the_conversation_one_ticket_lifetime(
    shared_redis: str, prefix: str
) -> None:
    dead_server, live_server = two_servers(shared_redis, prefix, ticket_seconds=1)
    # A server killed during a turn: it took the conversation's lock, then its event loop was
    # gone, the block never ended and nothing of it ran again.
    await asyncio.to_thread(die_holding, dead_server, "rest:tenant-1")
    started = asyncio.get_running_loop().time()

    async def take_turn() -> None:
        async with live_server.lock("rest:tenant-1"):
            pass

    await asyncio.wait_for(take_turn(), timeout=10)
    waited = asyncio.get_running_loop().time() - started

    # Rasa's lock store kept the conversation for its tickets' 60 s, or for ever once the
    # waiting message's own ticket had expired too (seen: still waiting after 2 minutes).
    assert 0.9 <= waited <= 3.0


async def test_a_renewal_redis_misses_does_not_fail_the_turn(
    shared_redis: str, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (server, _) = two_servers(shared_redis, prefix, ticket_seconds=1)
    calls = {"renewals": 0}
    save = server.save_lock

    def flaky_save(lock: object) -> None:
        calls["renewals"] += 1
        if calls["renewals"] == 2:  # the first renewal (the first save issued the ticket)
            raise redis.ConnectionError("Connection reset by peer")
        save(lock)

    monkeypatch.setattr(server, "save_lock", flaky_save)
    async with server.lock("rest:tenant-1"):
        await asyncio.sleep(1.2)  # three renewals, the first one lost

    assert calls["renewals"] >= 3
    # The turn's end removed its ticket.
    left = server.get_lock("rest:tenant-1")
    assert left is None or not left.tickets
