"""The widget's socket.io channel: sessions are issued and signed by the server, a socket types
into the session it was confirmed and receives only that session's replies, huge messages are
answered by the channel. Real sockets: a Sanic app, python-socketio clients, a fake agent."""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import socketio
from rasa.core.channels.channel import UserMessage, register
from sanic import Sanic

from bot.channels.identity import WebSessions
from bot.channels.limits import too_long_reply
from bot.channels.socketio import SocketIOInput
from bot.settings import MESSAGE_MAX_CHARS
from tests.portal.support import eventually, serve

SECRET = "a-test-secret-key"
_apps = itertools.count()


@dataclass
class FakeAgent:
    received: list[UserMessage] = field(default_factory=list)

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append(message)
        await message.output_channel.send_response(
            message.sender_id, {"text": f"Réponse pour {message.text}"}
        )


@dataclass
class Widget:
    """One browser tab: a socket.io client and what it was told."""

    client: socketio.AsyncClient
    confirmed: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)

    async def request_session(self, kept: Any = None) -> str:
        before = len(self.confirmed)
        await self.client.emit("session_request", {"session_id": kept})
        await _until(lambda: len(self.confirmed) > before)
        return self.confirmed[-1]

    async def say(self, text: str, **extra: Any) -> None:
        await self.client.emit("user_uttered", {"message": text, **extra})


@dataclass
class Server:
    agent: FakeAgent
    url: str
    widgets: list[Widget] = field(default_factory=list)

    async def widget(self) -> Widget:
        client = socketio.AsyncClient()
        widget = Widget(client)
        client.on("session_confirm", widget.confirmed.append)
        client.on("bot_uttered", lambda message: widget.replies.append(message.get("text")))
        await client.connect(self.url, transports=["polling"], socketio_path="/socket.io")
        self.widgets.append(widget)
        return widget


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    channel = SocketIOInput(sessions=WebSessions(SECRET))
    app = Sanic(f"socketio_test_{next(_apps)}")
    agent = FakeAgent()
    app.ctx.agent = agent
    register([channel], app, route="/webhooks/")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    running = Server(agent, f"http://127.0.0.1:{sock.getsockname()[1]}")
    async with serve(app, sock):
        yield running
        for widget in running.widgets:
            await widget.client.disconnect()
    sock.close()


async def _until(condition: Callable[[], object]) -> None:
    async def check() -> object:
        return condition()

    await eventually(check)


async def _settled(condition: Callable[[], object] | None = None) -> None:
    if condition is not None:
        await _until(condition)
    await asyncio.sleep(0.2)  # time for anything that should not happen to happen


async def test_a_new_widget_gets_a_signed_session_and_its_conversation_carries_the_channel(
    server: Server,
) -> None:
    widget = await server.widget()
    session = await widget.request_session()

    session_id = WebSessions(SECRET).session_of(session)
    assert session_id is not None
    await widget.say("bonjour")
    await _settled(lambda: widget.replies)
    (message,) = server.agent.received
    assert (message.sender_id, message.input_channel) == (f"socketio:{session_id}", "socketio")
    assert widget.replies == ["Réponse pour bonjour"]


async def test_a_reload_presenting_its_session_continues_the_same_conversation(
    server: Server,
) -> None:
    first = await server.widget()
    session = await first.request_session()
    await first.say("avant")
    await _settled(lambda: first.replies)
    await first.client.disconnect()

    reloaded = await server.widget()
    assert await reloaded.request_session(session) == session
    await reloaded.say("après")
    await _settled(lambda: reloaded.replies)
    assert [m.sender_id for m in server.agent.received] == [server.agent.received[0].sender_id] * 2


@pytest.mark.parametrize(
    "forged",
    [
        "{id}",  # the bare session id (it is the visible part of the conversation id)
        "socketio:{id}",  # the conversation id, as the staff console and the tracker show it
        "{id}.AAAA",  # a made-up signature
        "{id}.{signature}x",
        "0" * 32,
        "",
        12345,
        {"session_id": "{id}"},
    ],
)
async def test_a_session_the_server_did_not_sign_starts_a_new_conversation(
    server: Server, forged: Any
) -> None:
    tenant = await server.widget()
    session = await tenant.request_session()
    session_id, _, signature = session.partition(".")
    await tenant.say("mon solde")
    await _settled(lambda: tenant.replies)

    attacker = await server.widget()
    if isinstance(forged, str):
        forged = forged.format(id=session_id, signature=signature)
    given = await attacker.request_session(forged)
    assert given != session
    # Typing into the tenant's session by naming it in the message changes nothing either.
    await attacker.say("quel est le solde ?", session_id=session)
    await _settled(lambda: attacker.replies)

    tenant_conversation, attacker_conversation = (m.sender_id for m in server.agent.received)
    assert attacker_conversation != tenant_conversation
    assert tenant.replies == ["Réponse pour mon solde"]  # nothing of the attacker's turn
    assert attacker.replies == ["Réponse pour quel est le solde ?"]


async def test_a_message_before_any_session_is_ignored(server: Server) -> None:
    widget = await server.widget()
    await widget.say("bonjour", session_id="0123456789abcdef0123456789abcdef")
    await _settled()
    assert server.agent.received == []


async def test_a_huge_message_gets_the_french_reply_and_is_not_read(server: Server) -> None:
    widget = await server.widget()
    await widget.request_session()
    await widget.say("loyer " * 20_000)
    await _settled(lambda: widget.replies)

    assert server.agent.received == []
    assert widget.replies == [too_long_reply(MESSAGE_MAX_CHARS)]
