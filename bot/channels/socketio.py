"""The website widget's socket.io channel, with sessions the server issues and signs.

Rasa's own channel lets a client name any session: ``session_request`` with another tenant's
id joined that tenant's room (every reply, the code prompt, the balance) and ``user_uttered``
with that id typed into their conversation. Here::

    session_request {session_id: <what the widget kept, or null>}
        a session this server signed ........ the socket joins it (a reload, a reconnection)
        anything else ........................ a new session is issued (a new conversation)
      ─> session_confirm <session>            the widget keeps it (localStorage)
    user_uttered {message, metadata}
        the sender is the session this socket was confirmed, never what the message says;
        no session yet: ignored; over MESSAGE_MAX_CHARS: the channels' French reply, not read

The conversation id is ``socketio:<session id>``; replies, and staff replies sent through
Rasa's API with ``output_channel=socketio``, go to that room only.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOOutput
from rasa.core.channels.socketio import SocketIOInput as RasaSocketIOInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from bot.channels.identity import WebSessions, sender_id
from bot.channels.limits import too_long, too_long_reply
from bot.channels.webhooks import OnNewMessage
from bot.settings import Settings

logger = logging.getLogger(__name__)

#: Where a socket keeps its confirmed conversation (python-socketio's per-socket session).
SENDER_KEY = "sender_id"


class SocketIOInput(RasaSocketIOInput):
    """Rasa's socket.io channel with server-issued sessions (see the module docstring)."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        settings = Settings.from_env()
        return cls(
            user_message_evt=credentials.get("user_message_evt", "user_uttered"),
            bot_message_evt=credentials.get("bot_message_evt", "bot_uttered"),
            namespace=credentials.get("namespace"),
            socketio_path=credentials.get("socketio_path", "/socket.io"),
            sessions=WebSessions(settings.secret_key),
            max_chars=settings.message_max_chars,
        )

    def __init__(
        self,
        *,
        sessions: WebSessions,
        user_message_evt: str = "user_uttered",
        bot_message_evt: str = "bot_uttered",
        namespace: str | None = None,
        socketio_path: str = "/socket.io",
        max_chars: int = 1000,
    ) -> None:
        super().__init__(
            user_message_evt=user_message_evt,
            bot_message_evt=bot_message_evt,
            namespace=namespace,
            session_persistence=True,
            socketio_path=socketio_path,
        )
        self.sessions = sessions
        self.max_chars = max_chars

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        # CORS is Sanic's (Rasa's --cors); a WebSocket involves none.
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[])
        blueprint = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio
        namespace = self.namespace

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: str, data: Any) -> None:
            kept = data.get("session_id") if isinstance(data, dict) else None
            session = kept if self.sessions.session_of(kept) else self.sessions.issue()
            conversation = sender_id(self.name(), str(self.sessions.session_of(session)))
            socket_session = await sio.get_session(sid, namespace=namespace)
            previous = socket_session.get(SENDER_KEY)
            if previous and previous != conversation:  # the widget started over
                sio.leave_room(sid, previous, namespace=namespace)
            sio.enter_room(sid, conversation, namespace=namespace)
            await sio.save_session(sid, {SENDER_KEY: conversation}, namespace=namespace)
            await sio.emit("session_confirm", session, room=sid, namespace=namespace)
            logger.debug(
                "socketio: socket %s confirmed (%s)", sid, "kept" if kept == session else "new"
            )

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: str, data: Any) -> None:
            conversation = (await sio.get_session(sid, namespace=namespace)).get(SENDER_KEY)
            text = data.get("message") if isinstance(data, dict) else None
            if not conversation or not isinstance(text, str):
                logger.info(
                    "socketio: socket %s: message without a confirmed session, ignored", sid
                )
                return
            if too_long(text, self.max_chars):
                logger.info(
                    "socketio: conversation %s: message over the limit, not read", conversation
                )
                reply = {"text": too_long_reply(self.max_chars)}
                await sio.emit(self.bot_message_evt, reply, room=sid, namespace=namespace)
                return
            await on_new_message(
                UserMessage(
                    text,
                    SocketIOOutput(sio, self.bot_message_evt),
                    conversation,
                    input_channel=self.name(),
                    metadata=_metadata(data.get(self.metadata_key)),
                )
            )

        return blueprint


def _metadata(value: Any) -> dict[str, Any] | None:
    """The message's metadata as a dict (the widget may send it as JSON text)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            return None
    return value if isinstance(value, dict) else None
