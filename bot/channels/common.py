"""What the Telegram and SMS channels do the same way.

- ``channel_wording``: a channel's own French wording, from ``messages_fr.yml`` (read once);
- ``Bounded``: memory that forgets its least recently used entries, so that a process
  holding per-chat state for months does not grow without end (``state.MemoryStore``);
- ``Backoff``, ``send_with_retries``: a send tried again, after a doubling wait, while its
  failure may pass (network errors, flood control, time-outs)::

      send() ─ok─> result
        │ error
        v
      wait_after(error, attempt) ─None─> the error, raised as it is (trying again cannot help)
        │ seconds
        v
      last attempt? ─yes─> RetriesExhausted, from the last error
        │ no
        └── sleep(seconds), send() again

- ``webhook_blueprint``: a channel's blueprint with the health route every channel answers;
- ``button_title``, ``button_payload``: what a Rasa button shows and sends, whichever it lacks.
"""

from __future__ import annotations

import asyncio
import functools
import math
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import yaml
from rasa.core.channels.channel import UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")
E = TypeVar("E", bound=Exception)

MESSAGES_FILE = Path(__file__).with_name("messages_fr.yml")
#: What Rasa gives a channel's blueprint: hands one message to the agent.
OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


@functools.cache
def channel_wording(section: str, path: Path = MESSAGES_FILE) -> dict[str, Any]:
    """One channel's section of the channels' wording file (read once per section)."""
    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return dict(loaded.get(section) or {})


# --------------------------------------------------------------------------- bounded memory


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


# --------------------------------------------------------------------------- retries


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


# --------------------------------------------------------------------------- webhook


def webhook_blueprint(name: str) -> Blueprint:
    """A channel's blueprint with its health route (``GET /webhooks/<channel>/``)."""
    blueprint = Blueprint(name)

    @blueprint.route("/", methods=["GET"])
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    return blueprint


# --------------------------------------------------------------------------- buttons


def button_title(button: dict[str, Any], missing: str = "") -> str:
    """What a Rasa button shows: its title, else its payload."""
    return str(button.get("title") or button.get("payload") or missing)


def button_payload(button: dict[str, Any], missing: str = "") -> str:
    """What a Rasa button sends: its payload, else its title."""
    return str(button.get("payload") or button.get("title") or missing)
