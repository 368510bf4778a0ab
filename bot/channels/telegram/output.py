"""Rasa's messages sent to Telegram, and the Bot API calls the input side needs.

sendMessage in plain text (a tenant's "_" or "*" is never markup), no link previews, long
texts in pieces, buttons as an inline keyboard; every call retried while the failure is
transient (``retries``). The output channel remembers the last upload link sent to each chat,
for the file the tenant may send next (``attachments``), and the payloads behind short
button ids, where ``ChannelState`` says (``memory``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from rasa.core.channels.channel import OutputChannel
from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions

from bot.channels.identity import local_id
from bot.channels.retries import Backoff
from bot.channels.state import ChannelState
from bot.channels.telegram.attachments import find_upload_link
from bot.channels.telegram.bot_api import close_bot
from bot.channels.telegram.memory import (
    MAX_BUTTONS_REMEMBERED,
    MAX_CHATS_REMEMBERED,
    ShortButtonIds,
    UploadLinks,
    callback_data,
)
from bot.channels.telegram.rendering import callback_payloads, inline_keyboard, split_text
from bot.channels.telegram.retries import SendFailed, call_bot_api
from bot.channels.wording import channel_wording

logger = logging.getLogger(__name__)

T = TypeVar("T")


def channel_messages() -> dict[str, str]:
    """The Telegram channel's own French wording (``messages_fr.yml``, read once)."""
    return channel_wording("telegram")


class TelegramOutput(OutputChannel):
    """Sends Rasa's messages with one ``telegram.Bot``, retrying transient failures.

    Args:
        bot: the bot, built once (``make_bot``).
        send_attempts: tries per Bot API call when the failure is transient.
        backoff_seconds: wait before the 2nd try, doubled before each next one.
        max_wait_seconds: longest wait, even when Telegram's flood control asks for more
            (the webhook must answer before Telegram gives up on it).
        state: where upload links and button ids are kept; None: this process's memory.
    """

    def __init__(
        self,
        bot: Bot,
        *,
        send_attempts: int = 4,
        backoff_seconds: float = 0.5,
        max_wait_seconds: float = 5.0,
        state: ChannelState | None = None,
    ) -> None:
        self.bot = bot
        self.state = state or ChannelState()
        self.backoff = Backoff(
            attempts=send_attempts, first_delay=backoff_seconds, max_delay=max_wait_seconds
        )
        self.upload_links = UploadLinks(
            self.state.store("telegram:upload_links", MAX_CHATS_REMEMBERED)
        )
        self._payloads = ShortButtonIds(
            self.state.store("telegram:buttons", MAX_BUTTONS_REMEMBERED)
        )

    @classmethod
    def name(cls) -> str:
        return "telegram"

    # ------------------------------------------------------------------ Rasa's interface

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Rasa names the tenant by the conversation id (``telegram:<chat id>``)."""
        await super().send_response(local_id(self.name(), recipient_id), message)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send_text(recipient_id, text)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        # Stored first: the tenant may press a button as soon as it shows.
        await self._payloads.remember(recipient_id, callback_payloads(buttons))
        await self._send_text(recipient_id, text, inline_keyboard(buttons, callback_data))

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        sent = await self.call(recipient_id, "sendPhoto", self.bot.send_photo, recipient_id, image)
        if sent is None:  # Telegram could not fetch it: the address still helps
            await self._send_text(recipient_id, image)

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        url = attachment if isinstance(attachment, str) else None
        if isinstance(attachment, dict):
            url = (attachment.get("payload") or {}).get("src") or attachment.get("url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            logger.warning("telegram: chat %s: attachment without a URL not sent", recipient_id)
            return
        sent = await self.call(
            recipient_id, "sendDocument", self.bot.send_document, recipient_id, url
        )
        if sent is None:
            await self._send_text(recipient_id, url)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """Known keys only (``text`` with optional ``buttons``, ``photo``, ``document``).

        Anything else is meant for another channel (the web widget): it is not sent, and
        never shown to the tenant as raw JSON.
        """
        if isinstance(json_message.get("text"), str):
            buttons = json_message.get("buttons")
            if isinstance(buttons, list) and buttons:
                await self.send_text_with_buttons(recipient_id, json_message["text"], buttons)
            else:
                await self._send_text(recipient_id, json_message["text"])
        elif isinstance(json_message.get("photo"), str):
            await self.send_image_url(recipient_id, json_message["photo"])
        elif isinstance(json_message.get("document"), str):
            await self.send_attachment(recipient_id, json_message["document"])
        else:
            logger.debug("telegram: chat %s: custom payload not meant for Telegram", recipient_id)

    # ------------------------------------------------------------------ for the input side

    async def send_notice(self, chat_id: int | str, key: str) -> None:
        """One of the channel's own messages (``messages_fr.yml``)."""
        await self._send_text(str(chat_id), channel_messages()[key])

    async def payload_of(self, chat_id: str, data: str) -> str | None:
        """The payload behind a button's ``callback_data``; None if it was forgotten."""
        return await self._payloads.payload_of(chat_id, data)

    async def download(self, chat_id: str, file_id: str) -> bytes | None:
        """A file the tenant sent; None if Telegram refuses to hand it over."""
        file = await self.call(chat_id, "getFile", self.bot.get_file, file_id)
        if file is None:
            return None
        data = await self.call(chat_id, "download", file.download_as_bytearray)
        return None if data is None else bytes(data)

    async def answer_button(self, chat_id: str, query_id: str, text: str | None = None) -> None:
        """Stop the spinner on the button; a query too old to answer is no matter."""
        with contextlib.suppress(SendFailed):
            await self.call(
                chat_id, "answerCallbackQuery", self.bot.answer_callback_query, query_id, text
            )

    async def close(self) -> None:
        await close_bot(self.bot)
        await self.state.close()

    # ------------------------------------------------------------------ sending

    async def call(
        self,
        chat_id: str,
        method: str,
        function: Callable[..., Awaitable[T]],
        *args: Any,
        **kwargs: Any,
    ) -> T | None:
        """``function(*args, **kwargs)``, retried while the failure is transient.

        None when Telegram refuses it for good; ``SendFailed`` when every try failed (see
        ``retries``).
        """
        return await call_bot_api(chat_id, method, lambda: function(*args, **kwargs), self.backoff)

    async def _send_text(
        self, chat_id: str, text: str | None, markup: InlineKeyboardMarkup | None = None
    ) -> None:
        text = (text or "").strip() or (channel_messages()["buttons_only"] if markup else "")
        if not text:
            return
        chunks = list(split_text(text))
        for position, chunk in enumerate(chunks, start=1):
            sent = await self.call(
                chat_id,
                "sendMessage",
                self.bot.send_message,
                chat_id,
                chunk,
                reply_markup=markup if position == len(chunks) else None,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
            if sent is not None:
                await self._remember_upload_link(chat_id, chunk)

    async def _remember_upload_link(self, chat_id: str, text: str) -> None:
        link = find_upload_link(text)
        if link is not None:
            await self.upload_links.remember(chat_id, link)
