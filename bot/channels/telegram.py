"""The Telegram channel: Rasa's ``InputChannel`` and ``OutputChannel`` on python-telegram-bot.

Rasa's own Telegram channel (aiogram 2.15) checks no secret token, calls ``getMe`` on every
request and swallows errors; this one replaces it (``credentials.yml`` names this class)::

    Telegram ── POST /webhooks/telegram/webhook ──> TelegramInput
      1. X-Telegram-Bot-Api-Secret-Token missing or wrong ........ 403, nothing read
      2. update_id already handed to Rasa (Telegram retrying) .... 200, nothing done
      3. Update.de_json(body, bot), private chats only:
           text ............................ UserMessage(text)
           inline button (callback query) .. answerCallbackQuery, UserMessage(payload)
           document or photo, while an upload link is pending in this chat:
                getFile + download ─> POST <link> (multipart ``fichier``, as the portal page)
                ─> UserMessage("c'est envoyé"): the form asks the portal whether it arrived
           anything else ................... a polite reply (messages_fr.yml), Rasa not asked
      4. 200 once Rasa has handled the message; 500 if that raised, so Telegram sends the
         update again (it is then handled, once)

    Rasa ──> TelegramOutput ──> sendMessage (plain text, no link previews; buttons as an
             inline keyboard, one per row), retried with back-off on network errors, flood
             control and time-outs; remembers the last upload link sent to each chat.

State kept in memory, bounded, per Rasa process: handled update ids, the last upload link of
each chat, the payloads of buttons too long for Telegram's 64-byte ``callback_data``. Logs
name the update and the chat, never what anyone wrote.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx
import yaml
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ChatType, MessageLimit
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.channels.telegram_admin import check_secret_token, close_bot, make_bot

logger = logging.getLogger(__name__)

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MESSAGES_FILE = Path(__file__).with_name("messages_fr.yml")
#: What the domain tells the tenant to write once a file is sent: the form then checks.
FILE_SENT_TEXT = "c'est envoyé"
#: Telegram commands and what Rasa receives instead (``/start`` opens every chat).
COMMANDS = {"start": "/greet"}
#: The Bot API hands over files up to this size.
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
#: ``callback_data`` longer than this is refused by Telegram: such payloads get a short id.
MAX_CALLBACK_BYTES = 64
CALLBACK_PREFIX = "~p:"
UPLOAD_LINK = re.compile(r"https?://[^\s<>\"'«»]+/depot/[A-Za-z0-9_~%.-]+")
UPLOAD_FIELD = "fichier"

MAX_UPDATES_REMEMBERED = 10_000
MAX_CHATS_REMEMBERED = 10_000
MAX_PAYLOADS_PER_CHAT = 50


@cache
def channel_messages(channel: str = "telegram") -> dict[str, str]:
    """The channel's own French wording, from ``messages_fr.yml`` (read once)."""
    with MESSAGES_FILE.open(encoding="utf-8") as file:
        return dict(yaml.safe_load(file)[channel])


class Bounded(Generic[K, V]):
    """A mapping that forgets its least recently used entries beyond ``size``."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        if key not in self._items:
            return None
        self._items.move_to_end(key)
        return self._items[key]

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def pop(self, key: K) -> V | None:
        return self._items.pop(key, None)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)


class UpdateLedger:
    """Which updates were handed to Rasa, so that Telegram's retries are handled once.

    An update seen again while it is still being handled waits for that first attempt: if it
    succeeded, nothing more is done; if it failed, the retry handles the update itself.
    """

    def __init__(self, size: int = MAX_UPDATES_REMEMBERED) -> None:
        self._done: Bounded[int, bool] = Bounded(size)
        self._running: dict[int, asyncio.Event] = {}

    async def once(self, update_id: int, handle: Callable[[], Awaitable[None]]) -> bool:
        """Run ``handle`` unless the update was handled already; True if it ran now."""
        while (running := self._running.get(update_id)) is not None:
            await running.wait()
        if update_id in self._done:
            return False
        finished = self._running[update_id] = asyncio.Event()
        try:
            await handle()
            self._done.put(update_id, True)
        finally:
            del self._running[update_id]
            finished.set()
        return True


class SendFailed(Exception):
    """Telegram stayed unreachable (network, flood control, time-outs) after every retry."""


class UploadFailed(Exception):
    """The upload page did not answer usefully: the update is to be retried."""


@dataclass(frozen=True)
class Attachment:
    """A file the tenant sent in the chat."""

    file_id: str
    file_name: str
    mime_type: str
    file_size: int | None


class TelegramOutput(OutputChannel):
    """Sends Rasa's messages with one ``telegram.Bot``, retrying transient failures.

    Args:
        bot: the bot, built once (``make_bot``).
        send_attempts: tries per Bot API call when the failure is transient.
        backoff_seconds: wait before the 2nd try, doubled before each next one.
        max_wait_seconds: longest wait, even when Telegram's flood control asks for more
            (the webhook must answer before Telegram gives up on it).
    """

    def __init__(
        self,
        bot: Bot,
        *,
        send_attempts: int = 4,
        backoff_seconds: float = 0.5,
        max_wait_seconds: float = 5.0,
    ) -> None:
        self.bot = bot
        self.send_attempts = send_attempts
        self.backoff_seconds = backoff_seconds
        self.max_wait_seconds = max_wait_seconds
        self.upload_links: Bounded[str, str] = Bounded(MAX_CHATS_REMEMBERED)
        self._payloads: Bounded[str, Bounded[str, str]] = Bounded(MAX_CHATS_REMEMBERED)

    @classmethod
    def name(cls) -> str:
        return "telegram"

    # ------------------------------------------------------------------ Rasa's interface

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send_text(recipient_id, text)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        rows = [[self._button(recipient_id, button)] for button in buttons]
        await self._send_text(recipient_id, text, InlineKeyboardMarkup(rows))

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

    def payload_of(self, chat_id: str, callback_data: str) -> str | None:
        """The payload behind a button's ``callback_data``; None if it was forgotten."""
        if not callback_data.startswith(CALLBACK_PREFIX):
            return callback_data
        payloads = self._payloads.get(chat_id)
        return payloads.get(callback_data) if payloads else None

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

        Returns None when Telegram refuses the call for good (bad request, bot blocked by the
        tenant): retrying the whole update would not help. Raises ``SendFailed`` when every
        try failed for a transient reason, so that the webhook answers 500 and Telegram retries.
        """
        for attempt in range(1, self.send_attempts + 1):
            try:
                return await function(*args, **kwargs)
            except TelegramError as error:
                delay = self._retry_delay(error, attempt)
                if delay is None:
                    logger.warning(
                        "telegram: %s to chat %s refused (%s), not retried",
                        method,
                        chat_id,
                        type(error).__name__,
                    )
                    return None
                logger.warning(
                    "telegram: %s to chat %s failed (%s), try %d of %d",
                    method,
                    chat_id,
                    type(error).__name__,
                    attempt,
                    self.send_attempts,
                )
                if attempt == self.send_attempts:
                    raise SendFailed(f"{method} to chat {chat_id}") from error
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _retry_delay(self, error: TelegramError, attempt: int) -> float | None:
        """How long to wait before trying again; None when trying again cannot help."""
        if isinstance(error, RetryAfter):
            wait = error.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            return min(seconds, self.max_wait_seconds)
        # BadRequest is a NetworkError in python-telegram-bot, but the same request fails again.
        if isinstance(error, TimedOut | NetworkError) and not isinstance(error, BadRequest):
            return min(self.backoff_seconds * 2 ** (attempt - 1), self.max_wait_seconds)
        return None

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
                self._remember_upload_link(chat_id, chunk)

    def _remember_upload_link(self, chat_id: str, text: str) -> None:
        links = UPLOAD_LINK.findall(text)
        if links:
            self.upload_links.put(chat_id, links[-1].rstrip(".,;:!?)"))

    def _button(self, chat_id: str, button: dict[str, Any]) -> InlineKeyboardButton:
        title = str(button.get("title") or button.get("payload") or "?")
        if isinstance(button.get("url"), str):
            return InlineKeyboardButton(title, url=button["url"])
        payload = str(button.get("payload") or title)
        return InlineKeyboardButton(title, callback_data=self._callback_data(chat_id, payload))

    def _callback_data(self, chat_id: str, payload: str) -> str:
        if len(payload.encode()) <= MAX_CALLBACK_BYTES and not payload.startswith(CALLBACK_PREFIX):
            return payload
        # Same payload, same id: a keyboard sent twice does not grow the map.
        short = CALLBACK_PREFIX + hashlib.sha256(payload.encode()).hexdigest()[:20]
        payloads = self._payloads.get(chat_id)
        if payloads is None:
            payloads = Bounded(MAX_PAYLOADS_PER_CHAT)
            self._payloads.put(chat_id, payloads)
        payloads.put(short, payload)
        return short


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> Iterable[str]:
    """``text`` in pieces Telegram accepts, cut at paragraph or line ends when possible."""
    while len(text) > limit:
        for separator in ("\n\n", "\n", " "):
            cut = text.rfind(separator, limit // 2, limit)
            if cut > 0:
                break
        else:
            cut = limit
        yield text[:cut].rstrip()
        text = text[cut:].lstrip()
    if text:
        yield text


class TelegramInput(InputChannel):
    """Receives Telegram's webhook calls and hands tenants' messages to Rasa.

    Credentials (``credentials.yml``): ``access_token`` (from BotFather), ``secret_token``
    (sent by Telegram in ``X-Telegram-Bot-Api-Secret-Token`` on every call, see
    ``python -m bot.cli telegram-set-webhook``), ``webhook_url`` (this route as Telegram
    reaches it) and, optionally, ``base_url`` (another Bot API server).
    """

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        return cls(
            access_token=credentials.get("access_token") or "",
            secret_token=credentials.get("secret_token") or "",
            webhook_url=credentials.get("webhook_url") or None,
            base_url=credentials.get("base_url") or None,
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
    ) -> None:
        if not access_token:
            raise ValueError("the Telegram channel needs its access_token (TELEGRAM_ACCESS_TOKEN)")
        self.secret_token = check_secret_token(secret_token)
        self.webhook_url = webhook_url
        self.base_url = base_url
        self.output = output or TelegramOutput(make_bot(access_token, base_url))
        self.updates = UpdateLedger()
        self._upload_timeout = upload_timeout
        self._http: httpx.AsyncClient | None = None

    def get_output_channel(self) -> TelegramOutput:
        """The one output channel, also for messages Rasa sends on its own (staff, reminders)."""
        return self.output

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        telegram_webhook = Blueprint("telegram_webhook", __name__)

        @telegram_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

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
            # Shielded: if Telegram hangs up (slow reply), Rasa still finishes the message and
            # Telegram's retry finds it handled instead of cutting a conversation turn in two.
            handling = asyncio.ensure_future(
                self.updates.once(update_id, lambda: self._handle(update, on_new_message))
            )
            # Read the outcome even when nobody awaits it any more (no "never retrieved" noise).
            handling.add_done_callback(lambda task: task.cancelled() or task.exception())
            try:
                handled = await asyncio.shield(handling)
            except Exception as error:
                logger.error(
                    "telegram: update %s not handled (%s); Telegram will send it again",
                    update_id,
                    type(error).__name__,
                )
                logger.debug("telegram: update %s failure", update_id, exc_info=True)
                return response.json({"status": "error"}, status=500)
            return response.json({"status": "ok" if handled else "duplicate"})

        @telegram_webhook.listener("after_server_stop")
        async def close(*_: Any) -> None:
            await self.output.close()
            if self._http is not None:
                await self._http.aclose()
                self._http = None

        return telegram_webhook

    def _secret_ok(self, sent: str | None) -> bool:
        return sent is not None and hmac.compare_digest(
            sent.encode("utf-8", "surrogateescape"), self.secret_token.encode()
        )

    # ------------------------------------------------------------------ one update

    async def _handle(
        self, update: Update, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        async def hand(chat_id: str, text: str, message: Message | None, **extra: Any) -> None:
            metadata = {"telegram": {"update_id": update.update_id, **extra}}
            if message is not None:
                metadata["telegram"]["message_id"] = message.message_id
                if message.from_user and message.from_user.language_code:
                    metadata["telegram"]["language_code"] = message.from_user.language_code
            await on_new_message(
                UserMessage(
                    text,
                    self.output,
                    sender_id=chat_id,
                    input_channel=self.name(),
                    metadata=metadata,
                )
            )
            logger.info(
                "telegram: update %s from chat %s handed to Rasa", update.update_id, chat_id
            )

        if update.callback_query is not None:
            await self._on_button(update.callback_query, hand)
        elif update.message is not None:
            await self._on_message(update.message, hand)
        elif update.edited_message is not None:
            await self._notice(update.edited_message, "edited")
        elif update.channel_post is not None or update.edited_channel_post is not None:
            await self._notice(update.channel_post or update.edited_channel_post, "not_private")
        else:
            logger.debug("telegram: update %s of a kind not handled, ignored", update.update_id)

    async def _on_button(self, query: CallbackQuery, hand: Callable[..., Awaitable[None]]) -> None:
        chat = query.message.chat if query.message is not None else None
        chat_id = str(chat.id if chat is not None else query.from_user.id)
        payload = self.output.payload_of(chat_id, query.data or "")
        if payload is None:
            await self.output.answer_button(chat_id, query.id, channel_messages()["button_expired"])
            return
        await self.output.answer_button(chat_id, query.id)
        await hand(chat_id, payload, None, button=True)

    async def _on_message(self, message: Message, hand: Callable[..., Awaitable[None]]) -> None:
        chat_id = str(message.chat.id)
        if message.chat.type != ChatType.PRIVATE:
            await self._notice(message, "not_private")
        elif message.text is not None:
            await hand(chat_id, command_as_text(message.text), message)
        elif (attachment := attachment_of(message)) is not None:
            await self._on_file(chat_id, message, attachment, hand)
        else:
            await self._notice(message, "text_only")

    async def _on_file(
        self,
        chat_id: str,
        message: Message,
        attachment: Attachment,
        hand: Callable[..., Awaitable[None]],
    ) -> None:
        link = self.output.upload_links.get(chat_id)
        if link is None:
            await self._notice(message, "nothing_to_attach")
            return
        if attachment.file_size and attachment.file_size > MAX_DOWNLOAD_BYTES:
            await self._notice(message, "file_refused")
            return
        data = await self.output.download(chat_id, attachment.file_id)
        if data is None:
            await self._notice(message, "file_refused")
            return
        status = await self._post_file(link, attachment, data)
        if status in (400, 413, 415):
            logger.info("telegram: chat %s: upload page refused the file (%s)", chat_id, status)
            await self._notice(message, "file_refused")
            return
        if status not in (200, 410):
            raise UploadFailed(f"upload page answered {status}")
        # 410: the link was used (this very file, on an earlier try) or expired: either way the
        # form asks the portal and tells the tenant. The link is forgotten only once Rasa knows.
        await hand(chat_id, FILE_SENT_TEXT, message, attachment=True)
        if self.output.upload_links.get(chat_id) == link:
            self.output.upload_links.pop(chat_id)

    async def _post_file(self, link: str, attachment: Attachment, data: bytes) -> int:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(self._upload_timeout, connect=5.0))
        files = {UPLOAD_FIELD: (attachment.file_name, data, attachment.mime_type)}
        try:
            sent = await self._http.post(link, files=files, headers={"Accept": "text/html"})
        except httpx.HTTPError as error:
            raise UploadFailed(type(error).__name__) from error
        return sent.status_code

    async def _notice(self, message: Message | None, key: str) -> None:
        if message is None:
            return
        logger.info("telegram: chat %s: message not for Rasa (%s)", message.chat.id, key)
        await self.output.send_notice(message.chat.id, key)


def command_as_text(text: str) -> str:
    """A Telegram command (``/start``, ``/start@bot payload``) as Rasa should read it."""
    if not text.startswith("/"):
        return text
    command = text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(text) > 1 else ""
    return COMMANDS.get(command, text)


def attachment_of(message: Message) -> Attachment | None:
    """The document or (largest) photo of a message, if it has one."""
    if message.document is not None:
        document = message.document
        return Attachment(
            file_id=document.file_id,
            file_name=document.file_name or "document",
            mime_type=document.mime_type or "application/octet-stream",
            file_size=document.file_size,
        )
    if message.photo:
        photo = max(message.photo, key=lambda size: size.width * size.height)
        return Attachment(
            file_id=photo.file_id,
            file_name="photo.jpg",
            mime_type="image/jpeg",
            file_size=photo.file_size,
        )
    return None
