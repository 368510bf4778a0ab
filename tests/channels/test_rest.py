"""The REST channel keeps its senders to itself, refuses malformed posts and huge messages,
and takes an operator's token; served on a real Sanic app, Rasa played by a fake agent."""

from __future__ import annotations

import itertools
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
from rasa.core.channels.channel import UserMessage, register
from rasa.shared.exceptions import RasaException
from sanic import Sanic

from bot.channels import rest
from bot.channels.limits import too_long_reply
from bot.channels.rest import RestInput
from bot.settings import MESSAGE_MAX_CHARS, Settings
from tests.portal.support import serve

WEBHOOK = "/webhooks/rest/webhook"
_apps = itertools.count()


@dataclass
class FakeAgent:
    received: list[UserMessage] = field(default_factory=list)

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append(message)
        await message.output_channel.send_response(message.sender_id, {"text": "Bien reçu."})


@dataclass
class Served:
    agent: FakeAgent
    client: httpx.AsyncClient


async def _serve(channel: RestInput) -> AsyncIterator[Served]:
    app = Sanic(f"rest_test_{next(_apps)}")
    agent = FakeAgent()
    app.ctx.agent = agent
    register([channel], app, route="/webhooks/")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    async with httpx.AsyncClient(base_url=url, timeout=10) as client, serve(app, sock):
        yield Served(agent, client)
    sock.close()


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    async for running in _serve(RestInput()):
        yield running


@pytest.mark.parametrize(
    ("posted", "conversation"),
    [
        ("moi", "rest:moi"),
        ("rest:moi", "rest:moi"),
        # Another channel's conversation id is only a name here: it stays a REST conversation.
        ("telegram:987654321", "rest:telegram:987654321"),
        (
            "socketio:0123456789abcdef0123456789abcdef",
            "rest:socketio:0123456789abcdef0123456789abcdef",
        ),
        ("sms:+33612345678", "rest:sms:+33612345678"),
    ],
)
async def test_a_post_only_ever_reaches_a_rest_conversation(
    served: Served, posted: str, conversation: str
) -> None:
    answer = await served.client.post(
        WEBHOOK, json={"sender": posted, "message": "bonjour", "input_channel": "telegram"}
    )

    assert answer.status_code == 200
    assert answer.json() == [{"recipient_id": conversation, "text": "Bien reçu."}]
    (message,) = served.agent.received
    assert (message.sender_id, message.input_channel) == (conversation, "rest")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[]",
        b'"bonjour"',
        b"null",
        b"{",
        b'{"message": "bonjour"}',
        b'{"sender": "moi"}',
        b'{"sender": 12, "message": "bonjour"}',
        b'{"sender": "moi", "message": ["bonjour"]}',
        b'{"sender": "   ", "message": "bonjour"}',
        b"[" * 100_000,
    ],
)
async def test_a_malformed_post_is_a_client_error_and_reaches_nobody(
    served: Served, body: bytes
) -> None:
    answer = await served.client.post(
        WEBHOOK, content=body, headers={"Content-Type": "application/json"}
    )

    assert answer.status_code == 400
    assert served.agent.received == []


async def test_a_huge_message_gets_the_french_reply_and_is_not_read(served: Served) -> None:
    answer = await served.client.post(WEBHOOK, json={"sender": "moi", "message": "a" * 100_000})

    assert answer.status_code == 200
    assert answer.json() == [
        {"recipient_id": "rest:moi", "text": too_long_reply(MESSAGE_MAX_CHARS)}
    ]
    assert served.agent.received == []


async def test_with_an_operator_token_only_posts_carrying_it_are_read() -> None:
    async for running in _serve(RestInput(token="operator-token")):
        body = {"sender": "moi", "message": "bonjour"}
        refused = [
            await running.client.post(WEBHOOK, json=body),
            await running.client.post(
                WEBHOOK, json=body, headers={"Authorization": "Bearer wrong"}
            ),
        ]
        accepted = await running.client.post(
            WEBHOOK, json=body, headers={"Authorization": "Bearer operator-token"}
        )

        assert [answer.status_code for answer in refused] == [403, 403]
        assert accepted.status_code == 200
        assert len(running.agent.received) == 1


def test_outside_development_the_channel_refuses_to_start_without_a_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rest.Settings, "from_env", lambda: Settings(env="production"))
    with pytest.raises(RasaException, match="REST_CHANNEL_TOKEN"):
        RestInput.from_credentials(None)

    monkeypatch.setattr(
        rest.Settings,
        "from_env",
        lambda: Settings(env="production", rest_channel_token="operator-token"),
    )
    assert RestInput.from_credentials(None).token == "operator-token"

    monkeypatch.setattr(rest.Settings, "from_env", lambda: Settings(env="test"))
    assert RestInput.from_credentials(None).token == ""
