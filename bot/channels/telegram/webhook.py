"""Telegram's webhook calls, checked and handed on once each (``TelegramInput``)::

Telegram ── POST /webhooks/telegram/webhook ──> TelegramInput
  1. X-Telegram-Bot-Api-Secret-Token missing or wrong ........ 403, nothing read
  2. update_id already handed to Rasa (Telegram retrying), here or on another server
     sharing the channel state (``bot.channels.state``) ........ 200, nothing done
  3. Update.de_json(body, bot) ─> UpdateHandler (``handling``)
  4. 200 once Rasa has handled the message; 500 if that raised, so Telegram sends the
     update again (it is then handled, once)
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Any

from rasa.core.channels.channel import InputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import Update

from bot.channels.limits import message_limit
from bot.channels.state import ChannelState
from bot.channels.telegram.attachments import FileForwarder
from bot.channels.telegram.bot_api import check_secret_token, make_bot
from bot.channels.telegram.handling import OnNewMessage, UpdateHandler
from bot.channels.telegram.memory import MAX_UPDATES_REMEMBERED, UpdateLedger
from bot.channels.telegram.output import TelegramOutput
from bot.channels.webhooks import webhook_blueprint
from bot.settings import MESSAGE_MAX_CHARS, Settings

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class TelegramInput(InputChannel):
    """Receives Telegram's webhook calls and hands tenants' messages to Rasa.

    Credentials (``credentials.yml``): ``access_token`` (from BotFather), ``secret_token``
    (sent by Telegram in ``X-Telegram-Bot-Api-Secret-Token`` on every call, see
    ``python -m bot.cli telegram-set-webhook``), ``webhook_url`` (this route as Telegram
    reaches it) and, optionally, ``base_url`` (another Bot API server, else
    ``TELEGRAM_API_BASE_URL``), ``state_redis_url`` and ``state_key_prefix`` (where handled
    updates, upload links and button ids are kept, else ``CHANNEL_STATE_REDIS_URL`` and
    ``CHANNEL_STATE_KEY_PREFIX``; see ``bot.channels.state``).
    """

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        settings = Settings.from_env()
        return cls(
            access_token=credentials.get("access_token") or "",
            secret_token=credentials.get("secret_token") or "",
            webhook_url=credentials.get("webhook_url") or None,
            base_url=credentials.get("base_url") or settings.telegram_api_base_url or None,
            max_chars=message_limit(settings),
            state=ChannelState.from_settings(credentials, settings),
        )

    def __init__(
        self,
        access_token: str,
        secret_token: str,
        webhook_url: str | None = None,
        base_url: str | None = None,
        *,
        output: TelegramOutput | None = None,
        upload_timeout: float = 30.0,
        max_chars: int = MESSAGE_MAX_CHARS,
        state: ChannelState | None = None,
    ) -> None:
        """``state``: where handled updates, upload links and button ids are kept (the
        given ``output``'s when it has one); None: this process's memory."""
        if not access_token:
            raise ValueError("the Telegram channel needs its access_token (TELEGRAM_ACCESS_TOKEN)")
        self.secret_token = check_secret_token(secret_token)
        self.webhook_url = webhook_url
        self.base_url = base_url
        self.output = output or TelegramOutput(make_bot(access_token, base_url), state=state)
        self.updates = UpdateLedger(
            self.output.state.store("telegram:updates", MAX_UPDATES_REMEMBERED)
        )
        self.files = FileForwarder(self.output.download, timeout=upload_timeout)
        self.max_chars = max_chars

    def get_output_channel(self) -> TelegramOutput:
        """The one output channel, also for messages Rasa sends on its own (staff, reminders)."""
        return self.output

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        telegram_webhook = webhook_blueprint("telegram_webhook")
        handler = UpdateHandler(self.output, self.files, on_new_message, max_chars=self.max_chars)

        @telegram_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not self._secret_ok(request.headers.get(SECRET_HEADER)):
                logger.warning("telegram: webhook call refused (secret token missing or wrong)")
                return response.json({"error": "forbidden"}, status=403)
            body = request.json
            update_id = body.get("update_id") if isinstance(body, dict) else None
            if not isinstance(update_id, int):
                return response.json({"error": "not a Telegram update"}, status=400)
            try:
                update = Update.de_json(body, self.output.bot)
            except Exception as error:  # sending it again would not make it readable
                logger.warning(
                    "telegram: update %s unreadable (%s)", update_id, type(error).__name__
                )
                return response.json({"status": "ignored"})
            return await self._handle_once(update, handler)

        @telegram_webhook.listener("after_server_stop")
        async def close(*_: Any) -> None:
            await self.output.close()
            await self.files.close()

        return telegram_webhook

    async def _handle_once(self, update: Update, handler: UpdateHandler) -> HTTPResponse:
        # Shielded: if Telegram hangs up (slow reply), Rasa still finishes the message and
        # Telegram's retry finds it handled instead of cutting a conversation turn in two.
        handling = asyncio.ensure_future(
            self.updates.once(update.update_id, lambda: handler.handle(update))
        )
        # Read the outcome even when nobody awaits it any more (no "never retrieved" noise).
        handling.add_done_callback(lambda task: task.cancelled() or task.exception())
        try:
            handled = await asyncio.shield(handling)
        except Exception as error:
            logger.error(
                "telegram: update %s not handled (%s); Telegram will send it again",
                update.update_id,
                type(error).__name__,
            )
            logger.debug("telegram: update %s failure", update.update_id, exc_info=True)
            return response.json({"status": "error"}, status=500)
        return response.json({"status": "ok" if handled else "duplicate"})

    def _secret_ok(self, sent: str | None) -> bool:
        return sent is not None and hmac.compare_digest(
            sent.encode("utf-8", "surrogateescape"), self.secret_token.encode()
        )
