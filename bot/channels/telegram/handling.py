"""One Telegram update, read: handed to Rasa as a ``UserMessage``, or answered by the channel.

Private chats only::

    text ............................ UserMessage(text), ``/start`` as ``/greet``;
                                      over MESSAGE_MAX_CHARS: the channels' reply, not read
    inline button (callback query) .. answerCallbackQuery, UserMessage(payload)
    document or photo, while an upload link is pending in this chat:
         forwarded to the link (``attachments``) ─> UserMessage("c'est envoyé"): the form
         asks the portal whether it arrived
    anything else ................... a polite reply (``messages_fr.yml``), Rasa not asked

Logs name the update and the chat, never what anyone wrote.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from telegram import CallbackQuery, Message, Update
from telegram.constants import ChatType

from bot.channels.identity import sender_id
from bot.channels.limits import too_long, too_long_reply
from bot.channels.telegram.attachments import Attachment, FileForwarder, attachment_of
from bot.channels.telegram.output import TelegramOutput, channel_messages

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]

#: What the domain tells the tenant to write once a file is sent: the form then checks.
FILE_SENT_TEXT = channel_messages()["file_sent"]
#: Telegram commands and what Rasa receives instead (``/start`` opens every chat).
COMMANDS = {"start": "/greet"}


def command_as_text(text: str) -> str:
    """A Telegram command (``/start``, ``/start@bot payload``) as Rasa should read it."""
    if not text.startswith("/"):
        return text
    command = text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(text) > 1 else ""
    return COMMANDS.get(command, text)


class UpdateHandler:
    """Reads updates for Rasa (``on_new_message``), replies through ``output``."""

    def __init__(
        self,
        output: TelegramOutput,
        files: FileForwarder,
        on_new_message: OnNewMessage,
        *,
        max_chars: int,
    ) -> None:
        self.output = output
        self.files = files
        self.on_new_message = on_new_message
        self.max_chars = max_chars

    async def handle(self, update: Update) -> None:
        if update.callback_query is not None:
            await self._on_button(update, update.callback_query)
        elif update.message is not None:
            await self._on_message(update, update.message)
        elif update.edited_message is not None:
            await self._notice(update.edited_message, "edited")
        elif update.channel_post is not None or update.edited_channel_post is not None:
            await self._notice(update.channel_post or update.edited_channel_post, "not_private")
        else:
            logger.debug("telegram: update %s of a kind not handled, ignored", update.update_id)

    async def _on_button(self, update: Update, query: CallbackQuery) -> None:
        chat = query.message.chat if query.message is not None else None
        chat_id = str(chat.id if chat is not None else query.from_user.id)
        payload = await self.output.payload_of(chat_id, query.data or "")
        if payload is None:
            await self.output.answer_button(chat_id, query.id, channel_messages()["button_expired"])
            return
        await self.output.answer_button(chat_id, query.id)
        await self._hand(update, chat_id, payload, None, button=True)

    async def _on_message(self, update: Update, message: Message) -> None:
        chat_id = str(message.chat.id)
        if message.chat.type != ChatType.PRIVATE:
            await self._notice(message, "not_private")
        elif too_long(message.text, self.max_chars):
            logger.info("telegram: chat %s: message over the limit, not read", chat_id)
            await self.output.send_text_message(chat_id, too_long_reply(self.max_chars))
        elif message.text is not None:
            await self._hand(update, chat_id, command_as_text(message.text), message)
        elif (attachment := attachment_of(message)) is not None:
            await self._on_file(update, message, attachment)
        else:
            await self._notice(message, "text_only")

    async def _on_file(self, update: Update, message: Message, attachment: Attachment) -> None:
        chat_id = str(message.chat.id)
        link = await self.output.upload_links.pending(chat_id)
        if link is None:
            refused: str | None = "nothing_to_attach"
        else:
            refused = await self.files.forward(chat_id, link, attachment)
        if refused is not None:
            await self._notice(message, refused)
            return
        await self._hand(update, chat_id, FILE_SENT_TEXT, message, attachment=True)
        # Forgotten only once Rasa knows: if handing failed, Telegram's retry finds the link.
        await self.output.upload_links.forget(chat_id, link)

    async def _hand(
        self, update: Update, chat_id: str, text: str, message: Message | None, **extra: Any
    ) -> None:
        metadata = {"telegram": {"update_id": update.update_id, **extra}}
        if message is not None:
            metadata["telegram"]["message_id"] = message.message_id
            if message.from_user and message.from_user.language_code:
                metadata["telegram"]["language_code"] = message.from_user.language_code
        await self.on_new_message(
            UserMessage(
                text,
                self.output,
                sender_id=sender_id(self.output.name(), chat_id),
                input_channel=self.output.name(),
                metadata=metadata,
            )
        )
        logger.info("telegram: update %s from chat %s handed to Rasa", update.update_id, chat_id)

    async def _notice(self, message: Message | None, key: str) -> None:
        if message is None:
            return
        logger.info("telegram: chat %s: message not for Rasa (%s)", message.chat.id, key)
        await self.output.send_notice(message.chat.id, key)
