"""The Telegram bot itself: building a ``telegram.Bot``, registering the webhook.

Imports no Rasa (nor does the package's ``__init__``), so that the operator command
``python -m bot.cli telegram-set-webhook`` starts quickly.

``base_url`` is the root of the Bot API server: ``https://api.telegram.org`` by default, a
self-hosted Bot API server, or a fake one in tests. Methods are called under
``<root>/bot<token>/<method>`` and files downloaded from ``<root>/file/bot<token>/<path>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from telegram import Bot
from telegram.request import HTTPXRequest

from bot.channels.telegram.library_logs import protect_library_logs

DEFAULT_API_ROOT = "https://api.telegram.org"
#: The updates the channel handles; Telegram sends no others.
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
#: What Telegram accepts as a webhook secret token.
SECRET_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def api_root(base_url: str | None) -> str:
    """The Bot API server root, accepting python-telegram-bot's ``.../bot`` form as well."""
    root = (base_url or DEFAULT_API_ROOT).strip().rstrip("/")
    return root.removesuffix("/bot").rstrip("/")


def make_bot(access_token: str, base_url: str | None = None) -> Bot:
    """A ``telegram.Bot`` on the given server; it calls nothing until a method is awaited.

    Webhooks only: the connection pool that would serve ``getUpdates`` is the common one.
    Close it with ``close_bot`` (``Bot.shutdown`` does nothing for a bot never initialised,
    and the channel never initialises it: that would cost a ``getMe`` call).
    """
    root = api_root(base_url)
    protect_library_logs(access_token)
    request = HTTPXRequest(connection_pool_size=32, read_timeout=10.0)
    return Bot(
        access_token,
        base_url=f"{root}/bot",
        base_file_url=f"{root}/file/bot",
        request=request,
        get_updates_request=request,
    )


async def close_bot(bot: Bot) -> None:
    """Close the bot's connections."""
    await bot.shutdown()
    await bot.request.shutdown()


def check_secret_token(secret_token: str | None) -> str:
    """The secret token, or ``ValueError`` if Telegram would refuse it."""
    if not secret_token or not SECRET_TOKEN_PATTERN.match(secret_token):
        raise ValueError(
            "the Telegram secret token must be 1 to 256 characters among A-Z, a-z, 0-9, _ and -"
        )
    return secret_token


@dataclass(frozen=True)
class WebhookRegistered:
    """What Telegram confirmed."""

    bot_username: str
    url: str


async def set_webhook(
    access_token: str, webhook_url: str, secret_token: str, base_url: str | None = None
) -> WebhookRegistered:
    """Tell Telegram where to send updates, and the secret token to put on each of them.

    Raises ``ValueError`` for a malformed secret token, ``telegram.error.InvalidToken`` for a
    token Telegram refuses and ``telegram.error.TelegramError`` for anything else it refuses.
    """
    check_secret_token(secret_token)
    # ``async with`` calls getMe once: it checks the token and names the bot for the operator.
    async with make_bot(access_token, base_url) as bot:
        await bot.set_webhook(
            url=webhook_url, secret_token=secret_token, allowed_updates=list(ALLOWED_UPDATES)
        )
        return WebhookRegistered(bot_username=bot.username, url=webhook_url)
