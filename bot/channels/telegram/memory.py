"""What the Telegram channel keeps in memory, bounded, per Rasa process.

- ``UpdateLedger``: the updates handed to Rasa, so that Telegram's retries are handled once;
- ``ShortButtonIds``: the payloads of buttons too long for Telegram's 64-byte
  ``callback_data``, per chat, under a short id.

(The last upload link sent to each chat is a plain ``Bounded`` on the output channel.) A
restart forgets all of it: a very late retry is handled again, an old button is answered
"no longer valid", a file sent before the link again is refused politely.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable

from bot.channels.common import Bounded, SeenIds

MAX_UPDATES_REMEMBERED = 10_000
MAX_CHATS_REMEMBERED = 10_000
MAX_PAYLOADS_PER_CHAT = 50
#: ``callback_data`` longer than this is refused by Telegram: such payloads get a short id.
MAX_CALLBACK_BYTES = 64
CALLBACK_PREFIX = "~p:"


class UpdateLedger:
    """Which updates were handed to Rasa, so that Telegram's retries are handled once.

    An update seen again while it is still being handled waits for that first attempt: if it
    succeeded, nothing more is done; if it failed, the retry handles the update itself.
    """

    def __init__(self, size: int = MAX_UPDATES_REMEMBERED) -> None:
        self._done: SeenIds[int] = SeenIds(size)
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
            self._done.add(update_id)
        finally:
            del self._running[update_id]
            finished.set()
        return True


class ShortButtonIds(Bounded[str, Bounded[str, str]]):
    """Per chat (least recently used chats forgotten first), payloads behind short ids.

    A chat cannot use another chat's short id: each chat has its own map.
    """

    def __init__(
        self, chats: int = MAX_CHATS_REMEMBERED, per_chat: int = MAX_PAYLOADS_PER_CHAT
    ) -> None:
        super().__init__(chats)
        self.per_chat = per_chat

    def callback_data(self, chat_id: str, payload: str) -> str:
        """``payload`` itself when Telegram accepts it as ``callback_data``, else a short id."""
        if len(payload.encode()) <= MAX_CALLBACK_BYTES and not payload.startswith(CALLBACK_PREFIX):
            return payload
        # Same payload, same id: a keyboard sent twice does not grow the map.
        short = CALLBACK_PREFIX + hashlib.sha256(payload.encode()).hexdigest()[:20]
        payloads = self.get(chat_id)
        if payloads is None:
            payloads = Bounded(self.per_chat)
            self.put(chat_id, payloads)
        payloads.put(short, payload)
        return short

    def payload_of(self, chat_id: str, callback_data: str) -> str | None:
        """The payload behind a button's ``callback_data``; None if it was forgotten."""
        if not callback_data.startswith(CALLBACK_PREFIX):
            return callback_data
        payloads = self.get(chat_id)
        return payloads.get(callback_data) if payloads else None
