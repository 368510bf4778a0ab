"""The Telegram channel: Rasa's ``InputChannel`` and ``OutputChannel`` on python-telegram-bot.

Rasa's own Telegram channel (aiogram 2.15) checks no secret token, calls ``getMe`` on every
request and swallows errors; this one replaces it (``credentials.yml`` names
``bot.channels.telegram.TelegramInput``)::

    Telegram ──> webhook.TelegramInput ── secret token, each update once
                   └─> handling.UpdateHandler ── text, buttons, files, polite notices
                         ├─> attachments.FileForwarder ──> the portal's upload page
                         └─> Rasa
    Rasa ──> output.TelegramOutput ──> Bot API (rendering: pieces, inline keyboards;
                                        retries: back-off on transient failures)

    bot_api, library_logs .. the bot itself and quiet library logs; no Rasa imported, for
                             ``python -m bot.cli telegram-set-webhook``
    memory ................. handled updates, short button ids, upload links (in memory,
                             or in Redis shared by several Rasa servers: bot.channels.state)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.channels.telegram.output import TelegramOutput
    from bot.channels.telegram.webhook import TelegramInput

__all__ = ["TelegramInput", "TelegramOutput"]


def __getattr__(name: str) -> Any:
    # Imported when first asked for, not with the package: the operator command imports
    # ``bot_api`` and must not wait for Rasa to import.
    if name == "TelegramInput":
        from bot.channels.telegram.webhook import TelegramInput

        return TelegramInput
    if name == "TelegramOutput":
        from bot.channels.telegram.output import TelegramOutput

        return TelegramOutput
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
