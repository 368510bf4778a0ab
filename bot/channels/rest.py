"""The REST channel, for tests and development: one JSON post, the replies in the answer.

It has no way to authenticate a tenant, so it is kept apart from the real channels:

- its senders are ``rest:<sender>`` whatever the post says (``rest:`` is added when missing),
  so a post can never reach a Telegram, SMS or widget conversation, and its messages are
  always recorded as coming in on ``rest`` (Rasa's own channel believes ``input_channel``
  from the body);
- outside development and tests it exists only with an operator's token
  (``REST_CHANNEL_TOKEN``, sent as ``Authorization: Bearer``): without one the Rasa server
  refuses to start with it;
- the body is checked: not a JSON object, no sender or no text → 400, nothing handed to Rasa;
  a text over ``MESSAGE_MAX_CHARS`` gets the channels' French reply and is not read.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.identity import sender_id
from bot.channels.limits import too_long, too_long_reply
from bot.channels.webhooks import OnNewMessage, webhook_blueprint
from bot.settings import Settings

logger = logging.getLogger(__name__)

MAX_SENDER_LENGTH = 128


class RestInput(RasaRestInput):
    """Rasa's REST channel, with its senders kept to themselves (see the module docstring)."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        settings = Settings.from_env()
        token = str((credentials or {}).get("token") or settings.rest_channel_token or "")
        if not settings.is_development and not token:
            raise RasaException(
                "The REST channel cannot authenticate tenants: outside development and tests "
                "it needs REST_CHANNEL_TOKEN (or remove it from the credentials)."
            )
        return cls(token=token, max_chars=settings.message_max_chars)

    def __init__(self, *, token: str = "", max_chars: int = 1000) -> None:
        self.token = token
        self.max_chars = max_chars

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        rest = webhook_blueprint("rest_webhook")

        @rest.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if self.token and not self._token_ok(request.headers.get("authorization", "")):
                return response.json({"error": "forbidden"}, status=403)
            body = _json_object(request.body)
            if body is None:
                return response.json({"error": "the body must be a JSON object"}, status=400)
            sender, text = body.get("sender"), body.get("message")
            if not _is_sender(sender) or not isinstance(text, str):
                return response.json(
                    {"error": "'sender' and 'message' must be non-empty texts"}, status=400
                )
            conversation = sender if sender.startswith("rest:") else sender_id("rest", sender)
            if too_long(text, self.max_chars):
                logger.info("rest: conversation %s: message over the limit, not read", conversation)
                return response.json(
                    [{"recipient_id": conversation, "text": too_long_reply(self.max_chars)}]
                )
            metadata = body.get("metadata")
            collector = CollectingOutputChannel()
            message = UserMessage(
                text,
                collector,
                conversation,
                input_channel=self.name(),
                metadata=metadata if isinstance(metadata, dict) else None,
            )
            try:
                await on_new_message(message)
            except (asyncio.CancelledError, Exception) as error:  # as Rasa's own channel does
                logger.error("rest: conversation %s: %s", conversation, type(error).__name__)
            return response.json(collector.messages)

        return rest

    def _token_ok(self, header: str) -> bool:
        given = header.removeprefix("Bearer ").strip()
        return bool(given) and hmac.compare_digest(given.encode(), self.token.encode())


def _json_object(raw: bytes | None) -> dict[str, Any] | None:
    try:
        body = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return body if isinstance(body, dict) else None


def _is_sender(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value.strip()) <= MAX_SENDER_LENGTH
