"""Quiet logs for python-telegram-bot and httpx.

The library logs the bot token (in URLs) and, at DEBUG, the parameters of every call (the
text of every reply); httpx logs the URLs it calls (an upload link carries a one-time token):
``protect_library_logs`` hides the token, drops the parameters and redacts the rest.
"""

from __future__ import annotations

import logging

from bot.privacy.logging import redact_record

TOKEN_MARK = "<jeton du bot>"

# python-telegram-bot's DEBUG lines that carry the parameters or results of API calls.
_BODY_LINES = ("Calling Bot API endpoint", "Call to Bot API endpoint", "Set Bot API")
_LIBRARY_LOGGERS = ("telegram.Bot", "httpx")


class LibraryLogFilter(logging.Filter):
    """Drops python-telegram-bot's call-parameter lines, hides bot tokens, redacts the rest."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "telegram.Bot" and str(record.msg).startswith(_BODY_LINES):
            return False
        if self.tokens:
            message = record.getMessage()
            hidden = message
            for token in self.tokens:
                hidden = hidden.replace(token, TOKEN_MARK)
            if hidden != message:
                record.msg, record.args = hidden, None
        redact_record(record)
        return True


_FILTER = LibraryLogFilter()


def protect_library_logs(access_token: str) -> None:
    """Install the filter on the loggers of python-telegram-bot and httpx (once)."""
    _FILTER.tokens.add(access_token)
    for name in _LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
