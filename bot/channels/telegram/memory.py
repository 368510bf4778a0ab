"""What the Telegram channel remembers between webhook calls, in a ``StateStore`` (memory,
or Redis shared by several Rasa servers, see ``bot.channels.state``):

- ``UpdateLedger``: the updates handed to Rasa (one day: Telegram gives up on an update
  after 24 hours), so that Telegram's retries are handled once, on whichever server;
- ``ShortButtonIds``: the payloads of buttons too long for Telegram's 64-byte
  ``callback_data``, per chat, under a short id (thirty days);
- ``UploadLinks``: the last upload link sent to each chat (one day, as the portal's link),
  for the file the tenant may send next.

With the memory store a restart forgets all of it: a very late retry is handled again, an
old button is answered "no longer valid", a file sent before the link again is refused
politely. Reading the store fails the webhook call (Telegram sends the update again);
writing it while sending is logged, and the message sent all the same.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterable

from bot.channels.state import StateStore, StateUnavailable

logger = logging.getLogger(__name__)

#: Keys each memory store holds (Redis needs no bound: its keys expire).
MAX_UPDATES_REMEMBERED = 10_000
MAX_CHATS_REMEMBERED = 10_000
MAX_BUTTONS_REMEMBERED = 50_000
#: ``callback_data`` longer than this is refused by Telegram: such payloads get a short id.
MAX_CALLBACK_BYTES = 64
CALLBACK_PREFIX = "~p:"

#: Telegram drops an update it could not deliver after 24 hours: no retry comes later.
UPDATE_DONE_TTL = 24 * 3600.0
#: How long one server may hold an update before another may take it over (a server that
#: died while handling it); longer than any turn, retries included.
UPDATE_LEASE = 300.0
#: How often a server checks an update another server is handling.
UPDATE_POLL = 0.2
BUTTON_TTL = 30 * 24 * 3600.0
#: The portal's upload links expire after UPLOAD_TTL_HOURS (24 by default).
UPLOAD_LINK_TTL = 24 * 3600.0

_RUNNING, _DONE = "running", "done"


class UpdateLedger:
    """Which updates were handed to Rasa, so that Telegram's retries are handled once.

    An update seen again while it is still being handled, by this server or another, waits
    for that first attempt: if it succeeded, nothing more is done; if it failed, the retry
    handles the update itself.
    """

    def __init__(
        self,
        store: StateStore,
        *,
        done_ttl: float = UPDATE_DONE_TTL,
        lease: float = UPDATE_LEASE,
        poll: float = UPDATE_POLL,
    ) -> None:
        self.store = store
        self.done_ttl, self.lease, self.poll = done_ttl, lease, poll
        self._running: dict[int, asyncio.Event] = {}

    async def once(self, update_id: int, handle: Callable[[], Awaitable[None]]) -> bool:
        """Run ``handle`` unless the update was handled already; True if it ran now.

        Raises ``StateUnavailable`` when the store cannot tell (Telegram will retry).
        """
        while (running := self._running.get(update_id)) is not None:
            await running.wait()
        finished = self._running[update_id] = asyncio.Event()
        try:
            if not await self._claim(str(update_id)):
                return False
            await self._handle(str(update_id), handle)
            return True
        finally:
            del self._running[update_id]
            finished.set()

    async def _claim(self, key: str) -> bool:
        """Hold the update (True), or learn that it was handled (False)."""
        while not await self.store.add(key, _RUNNING, self.lease):
            state = await self.store.get(key)
            if state == _DONE:
                return False
            if state is not None:  # another server has it in hand
                await asyncio.sleep(self.poll)
        return True

    async def _handle(self, key: str, handle: Callable[[], Awaitable[None]]) -> None:
        try:
            await handle()
        except BaseException:
            try:
                await self.store.delete(key)  # the retry handles it
            except StateUnavailable:
                logger.warning("telegram: update %s stays held until its lease ends", key)
            raise
        try:
            await self.store.set(key, _DONE, self.done_ttl)
        except StateUnavailable as error:
            # Handled all the same: answering 500 would have it handled twice.
            logger.warning("telegram: update %s not marked handled (%s)", key, error)


def callback_data(payload: str) -> str:
    """``payload`` itself when Telegram accepts it as ``callback_data``, else a short id.

    Same payload, same id: a keyboard sent twice stores nothing new.
    """
    if len(payload.encode()) <= MAX_CALLBACK_BYTES and not payload.startswith(CALLBACK_PREFIX):
        return payload
    return CALLBACK_PREFIX + hashlib.sha256(payload.encode()).hexdigest()[:20]


class ShortButtonIds:
    """Payloads behind short ids, per chat: a chat cannot use another chat's short id."""

    def __init__(self, store: StateStore, *, ttl: float = BUTTON_TTL) -> None:
        self.store, self.ttl = store, ttl

    async def remember(self, chat_id: str, payloads: Iterable[str]) -> None:
        """Store the payloads that need a short id, before the keyboard is sent."""
        for payload in payloads:
            short = callback_data(payload)
            if short == payload:
                continue
            try:
                await self.store.set(f"{chat_id}:{short}", payload, self.ttl)
            except StateUnavailable as error:
                logger.warning("telegram: chat %s: button not remembered (%s)", chat_id, error)

    async def payload_of(self, chat_id: str, data: str) -> str | None:
        """The payload behind a button's ``callback_data``; None if it was forgotten."""
        if not data.startswith(CALLBACK_PREFIX):
            return data
        return await self.store.get(f"{chat_id}:{data}")


class UploadLinks:
    """The last upload link sent to each chat, for the file the tenant may send next."""

    def __init__(self, store: StateStore, *, ttl: float = UPLOAD_LINK_TTL) -> None:
        self.store, self.ttl = store, ttl

    async def remember(self, chat_id: str, link: str) -> None:
        try:
            await self.store.set(chat_id, link, self.ttl)
        except StateUnavailable as error:
            logger.warning("telegram: chat %s: upload link not remembered (%s)", chat_id, error)

    async def pending(self, chat_id: str) -> str | None:
        """The link a file sent now goes to; None when there is none."""
        return await self.store.get(chat_id)

    async def forget(self, chat_id: str, link: str) -> None:
        """Forget ``link``, unless a newer link was sent to the chat meanwhile."""
        if await self.store.get(chat_id) == link:
            await self.store.delete(chat_id)
