"""Bot API calls tried again while Telegram's failure is transient.

Transient: network errors, time-outs, flood control (``RetryAfter``, whose wait is honoured
up to the longest wait). Anything else (bad request, bot blocked by the tenant) fails the
same way again: it is logged and the call gives None, so that the update is not retried for
nothing. A transient failure on every try raises ``SendFailed``: the webhook answers 500 and
Telegram sends the update again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.channels.retries import Backoff, RetriesExhausted, send_with_retries

logger = logging.getLogger(__name__)

T = TypeVar("T")


class SendFailed(Exception):
    """Telegram stayed unreachable (network, flood control, time-outs) after every retry."""


def retry_delay(error: TelegramError, attempt: int, backoff: Backoff) -> float | None:
    """How long to wait before trying again; None when trying again cannot help."""
    if isinstance(error, RetryAfter):
        wait = error.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        return min(seconds, backoff.max_delay)
    # BadRequest is a NetworkError in python-telegram-bot, but the same request fails again.
    if isinstance(error, TimedOut | NetworkError) and not isinstance(error, BadRequest):
        return backoff.delay(attempt)
    return None


async def call_bot_api(
    chat_id: str, method: str, send: Callable[[], Awaitable[T]], backoff: Backoff
) -> T | None:
    """``await send()`` (Bot API ``method`` for ``chat_id``), retried while transient.

    Returns None when Telegram refuses the call for good. Raises ``SendFailed`` when every
    try failed for a transient reason.
    """

    def wait_after(error: TelegramError, attempt: int) -> float | None:
        wait = retry_delay(error, attempt, backoff)
        if wait is not None:
            logger.warning(
                "telegram: %s to chat %s failed (%s), try %d of %d",
                method,
                chat_id,
                type(error).__name__,
                attempt,
                backoff.attempts,
            )
        return wait

    try:
        return await send_with_retries(
            send, attempts=backoff.attempts, wait_after=wait_after, retry_on=TelegramError
        )
    except RetriesExhausted as exhausted:
        raise SendFailed(f"{method} to chat {chat_id}") from exhausted.last_error
    except TelegramError as error:
        logger.warning(
            "telegram: %s to chat %s refused (%s), not retried",
            method,
            chat_id,
            type(error).__name__,
        )
        return None
