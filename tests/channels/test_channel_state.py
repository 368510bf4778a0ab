"""The channels' state store: one contract, in process memory and in Redis; where the
channels take their settings from (credentials, environment, the run command's file)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import yaml

from bot.channels.state import ChannelState, MemoryStore, StateStore, StateUnavailable
from bot.runner.channels import write_credentials
from bot.settings import PROJECT_ROOT
from tests.channels.redis_state import REDIS_URL, delete_prefixed, redis_reachable

#: Nothing listens there: connections are refused at once.
DEAD_REDIS_URL = "redis://127.0.0.1:1/0"
SMS = "bot.channels.sms.SmsInput"
TELEGRAM = "bot.channels.telegram.TelegramInput"


@pytest.fixture(params=["memory", "redis"])
async def make_store(
    request: pytest.FixtureRequest,
) -> AsyncIterator[Callable[[str], StateStore]]:
    """``make_store(namespace)``: a store of that kind, as one more Rasa server would have it.

    In memory, a process has one store per namespace (another process sees nothing); in
    Redis, each call is another server's connection to the same keys.
    """
    if request.param == "memory":
        memory = ChannelState()
        stores: dict[str, StateStore] = {}
        yield lambda namespace: stores.setdefault(namespace, memory.store(namespace, size=100))
        return
    reason = await redis_reachable()
    if reason is not None:
        pytest.skip(reason)
    prefix = f"test-channels-{uuid.uuid4().hex}:"
    servers: list[ChannelState] = []

    def on_another_server(namespace: str) -> StateStore:
        servers.append(ChannelState(redis_url=REDIS_URL, key_prefix=prefix))
        return servers[-1].store(namespace, size=100)

    yield on_another_server
    for state in servers:
        await state.close()
    await delete_prefixed(prefix)


async def test_a_value_is_read_back_until_replaced(
    make_store: Callable[[str], StateStore],
) -> None:
    store = make_store("values")
    assert await store.get("k") is None
    await store.set("k", "un", ttl=60)
    assert await store.get("k") == "un"
    await store.set("k", "deux", ttl=60)
    assert await store.get("k") == "deux"
    await store.delete("k")
    assert await store.get("k") is None
    await store.delete("k")  # absent: no error


async def test_values_expire(make_store: Callable[[str], StateStore]) -> None:
    store = make_store("expiry")
    await store.set("short", "v", ttl=0.05)
    assert await store.add("added", "v", ttl=0.05)
    await store.set("long", "v", ttl=60)
    await asyncio.sleep(0.2)
    assert await store.get("short") is None
    assert await store.get("long") == "v"
    assert await store.add("added", "again", ttl=60)  # expired: absent again
    assert await store.get("added") == "again"


async def test_add_sets_only_when_absent(make_store: Callable[[str], StateStore]) -> None:
    store = make_store("add")
    assert await store.add("sid", "1", ttl=60) is True
    assert await store.add("sid", "2", ttl=60) is False
    assert await store.get("sid") == "1"


async def test_of_many_concurrent_adds_one_wins(make_store: Callable[[str], StateStore]) -> None:
    first, second = make_store("race"), make_store("race")
    results = await asyncio.gather(
        *(store.add("delivery", str(n), ttl=60) for n, store in enumerate([first, second] * 10))
    )
    assert results.count(True) == 1


async def test_take_answers_once(make_store: Callable[[str], StateStore]) -> None:
    first, second = make_store("take"), make_store("take")
    await first.set("+33612345678", "choix", ttl=60)
    taken = await asyncio.gather(*(store.take("+33612345678") for store in [first, second] * 5))
    assert taken.count("choix") == 1
    assert taken.count(None) == 9
    assert await first.take("absent") is None


async def test_namespaces_keep_uses_apart(make_store: Callable[[str], StateStore]) -> None:
    choices, seen = make_store("choices"), make_store("seen")
    await choices.set("k", "choices", ttl=60)
    assert await seen.get("k") is None
    assert await seen.add("k", "seen", ttl=60)
    assert await choices.get("k") == "choices"


async def test_same_namespace_different_prefix_is_another_deployment(
    shared_state: Callable[[], ChannelState],
) -> None:
    ours = shared_state().store("sms:seen", 10)
    other = shared_state()
    other.key_prefix += "other-deployment:"
    theirs = other.store("sms:seen", 10)
    assert await ours.add("SM1", "1", ttl=60)
    assert await theirs.add("SM1", "1", ttl=60)  # not seen by the other deployment
    await theirs.delete("SM1")


def test_the_memory_store_forgets_its_least_recently_used_keys() -> None:
    now = [0.0]
    store = MemoryStore(size=2, clock=lambda: now[0])

    async def scenario() -> None:
        await store.set("a", "1", ttl=10)
        await store.set("b", "2", ttl=10)
        assert await store.get("a") == "1"  # "b" is now the least recently used
        await store.set("c", "3", ttl=10)
        assert len(store) == 2
        assert await store.get("b") is None
        now[0] = 10
        assert await store.get("a") is None  # expired

    asyncio.run(scenario())


async def test_an_unreachable_redis_raises_state_unavailable() -> None:
    state = ChannelState(redis_url=DEAD_REDIS_URL, key_prefix="x:")
    store = state.store("sms:seen", 10)
    try:
        for call in (
            store.get("k"),
            store.set("k", "v", 1),
            store.add("k", "v", 1),
            store.take("k"),
            store.delete("k"),
        ):
            with pytest.raises(StateUnavailable):
                await call
    finally:
        await state.close()


# --------------------------------------------------------------------------- settings


def test_memory_unless_a_redis_url_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHANNEL_STATE_REDIS_URL", raising=False)
    monkeypatch.delenv("CHANNEL_STATE_KEY_PREFIX", raising=False)
    default = ChannelState.from_settings({})
    assert not default.shared
    assert isinstance(default.store("sms:seen", 10), MemoryStore)

    monkeypatch.setenv("CHANNEL_STATE_REDIS_URL", "redis://redis.internal:6379/2")
    monkeypatch.setenv("CHANNEL_STATE_KEY_PREFIX", "recette:")
    from_env = ChannelState.from_settings({})
    assert from_env.shared
    assert (from_env.redis_url, from_env.key_prefix) == (
        "redis://redis.internal:6379/2",
        "recette:",
    )

    given = ChannelState.from_settings(
        {"state_redis_url": "redis://other:6379/0", "state_key_prefix": "prod-a:"}
    )
    assert (given.redis_url, given.key_prefix) == ("redis://other:6379/0", "prod-a:")


def test_the_run_command_passes_the_optional_settings_to_rasa(tmp_path: Path) -> None:
    environ = {
        "TWILIO_ACCOUNT_SID": "AC123",
        "TWILIO_AUTH_TOKEN": "secret",
        "TWILIO_SMS_NUMBER": "+33600000000",
        "TWILIO_SMS_WEBHOOK_URL": "https://example.org/webhooks/sms/webhook",
        "TELEGRAM_ACCESS_TOKEN": "123:abc",
        "TELEGRAM_SECRET_TOKEN": "s3cret",
        "TELEGRAM_WEBHOOK_URL": "https://example.org/webhooks/telegram/webhook",
    }
    target = tmp_path / "credentials.yml"
    write_credentials(PROJECT_ROOT, target, environ)
    written = yaml.safe_load(target.read_text(encoding="utf-8"))
    # Unset: left out, or Rasa would refuse to start on an unset ${VARIABLE}.
    assert "api_base_url" not in written[SMS] and "base_url" not in written[TELEGRAM]
    assert "state_redis_url" not in written[SMS]

    environ |= {
        "TWILIO_API_BASE_URL": "http://127.0.0.1:9001",
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9002",
        "CHANNEL_STATE_REDIS_URL": "redis://:password@redis.internal:6379/0",
        "CHANNEL_STATE_KEY_PREFIX": "prod:",
    }
    write_credentials(PROJECT_ROOT, target, environ)
    text = target.read_text(encoding="utf-8")
    written = yaml.safe_load(text)
    assert written[SMS]["api_base_url"] == "${TWILIO_API_BASE_URL}"
    assert written[TELEGRAM]["base_url"] == "${TELEGRAM_API_BASE_URL}"
    for channel in (SMS, TELEGRAM):
        assert written[channel]["state_redis_url"] == "${CHANNEL_STATE_REDIS_URL}"
        assert written[channel]["state_key_prefix"] == "${CHANNEL_STATE_KEY_PREFIX}"
    assert "password" not in text  # Rasa expands the variables itself
