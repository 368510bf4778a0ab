"""Rasa's messages in the shapes Telegram accepts: texts cut to size, buttons as inline keys."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import MessageLimit

from bot.channels.buttons import button_payload, button_title


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


def inline_keyboard(
    buttons: list[dict[str, Any]], callback_data: Callable[[str], str]
) -> InlineKeyboardMarkup:
    """Rasa's buttons, one per row; ``callback_data`` turns a payload into what Telegram takes.

    A button with a ``url`` opens it instead of sending a payload.
    """
    return InlineKeyboardMarkup([[inline_button(button, callback_data)] for button in buttons])


def inline_button(
    button: dict[str, Any], callback_data: Callable[[str], str]
) -> InlineKeyboardButton:
    """One of Rasa's buttons as an inline key."""
    title = button_title(button, missing="?")
    if isinstance(button.get("url"), str):
        return InlineKeyboardButton(title, url=button["url"])
    return InlineKeyboardButton(title, callback_data=callback_data(button_payload(button, "?")))


def callback_payloads(buttons: list[dict[str, Any]]) -> list[str]:
    """The payloads the keyboard's buttons send (those opening a ``url`` send none)."""
    return [
        button_payload(button, "?") for button in buttons if not isinstance(button.get("url"), str)
    ]
