"""A send tried again, after a doubling wait, while its failure may pass (network errors,
flood control, time-outs); used by the Telegram and SMS channels::

    send() ─ok─> result
      │ error
      v
    wait_after(error, attempt) ─None─> the error, raised as it is (trying again cannot help)
      │ seconds
      v
    last attempt? ─yes─> RetriesExhausted, from the last error
      │ no
      └── sleep(seconds), send() again
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")
E = TypeVar("E", bound=Exception)


@dataclass(frozen=True, kw_only=True)
class Backoff:
    """How often a send is tried, and how long to wait between tries."""

    attempts: int = 4
    first_delay: float = 0.5
    #: The longest wait (a webhook must answer before the provider gives up on it).
    max_delay: float = math.inf

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1, 2, ...)."""
        return min(self.first_delay * 2 ** (attempt - 1), self.max_delay)


class RetriesExhausted(Exception):
    """Every attempt failed for a reason that might have passed."""

    def __init__(self, attempts: int, last_error: Exception) -> None:
        super().__init__(f"{attempts} attempts failed ({type(last_error).__name__})")
        self.attempts = attempts
        self.last_error = last_error


async def send_with_retries(
    send: Callable[[], Awaitable[T]],
    *,
    attempts: int,
    wait_after: Callable[[E, int], float | None],
    retry_on: type[E],
) -> T:
    """``await send()``, tried again while ``wait_after`` says the failure may pass.

    ``wait_after(error, attempt)`` answers the seconds to wait before the next attempt, or
    None when trying again cannot help: that error is then raised as it is. It is asked after
    the last attempt too, so that it can log every failure alike. Errors other than
    ``retry_on`` are not caught.

    Raises:
        RetriesExhausted: the last attempt failed too (``last_error``: its error).
    """
    for attempt in range(1, attempts + 1):
        try:
            return await send()
        except retry_on as error:
            wait = wait_after(error, attempt)
            if wait is None:
                raise
            if attempt == attempts:
                raise RetriesExhausted(attempts, error) from error
            await asyncio.sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover
