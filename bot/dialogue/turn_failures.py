"""A turn that fails outright is told to the tenant instead of answered by silence.

Rasa handles a message inside ``Agent.handle_message``: the conversation's lock (Redis with
several servers), the tracker read, the predictions, the tracker saved. When Redis or the
tracker's database is out of reach (restarted, failed over) that raises, and every channel
swallows it: the REST channel logs it and answers whatever was sent so far (often nothing),
socket.io and the webhooks of Telegram and Twilio likewise. The tenant is left with silence.

Worse, Rasa wraps the tracker store in ``FailSafeTrackerStore``, which on a database error
reads the conversation as a new one and saves it in the process's memory: the tenant is
answered as a stranger (a verified conversation forgets it was verified), and the turn is lost
for good (seen in tests/faults: during a PostgreSQL restart, answered messages never reached
the database). Here the tracker store is tried again for a few seconds (a restarted database
is back within them: SQLAlchemy drops the dead connections at the first error), then the
error is raised.

A turn that fails is logged (without the message's text) and the tenant gets
``utter_service_unavailable``: the conversation could not be read, so its language is not
known, and the domain's default (French) text is sent. The message was not recorded, which
is what that text says. Cancellation (a client gone, a server stopping) goes through.
:data:`REPLACEMENTS` is installed by ``bot.runner.rasa_main``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.agent import Agent
from rasa.core.tracker_store import FailSafeTrackerStore

from bot.dialogue.default_texts import UNAVAILABLE_RESPONSE, default_text
from bot.runner.replacements import Replacement

log = logging.getLogger(__name__)


HandleMessage = Callable[[Any, Any], Awaitable[Any]]


def telling_failures(handle_message: HandleMessage) -> HandleMessage:
    """``Agent.handle_message`` that tells the tenant when the turn could not be handled."""

    async def handle_or_tell(agent: Any, message: Any) -> Any:
        try:
            return await handle_message(agent, message)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - every failure gets the same answer
            log.error(
                "turn failed on %s (%s): the tenant is told the service is unavailable",
                message.input_channel or "unknown channel",
                type(error).__name__,
                exc_info=True,
            )
            await tell_unavailable(agent, message)
            return None

    return handle_or_tell


async def tell_unavailable(agent: Any, message: Any) -> None:
    """Send the default text of ``utter_service_unavailable`` on the message's channel."""
    if agent.domain is None or message.output_channel is None:
        return
    text = default_text(agent.domain.responses, UNAVAILABLE_RESPONSE)
    try:
        await message.output_channel.send_response(message.sender_id, {"text": text})
    except Exception:  # noqa: BLE001 - the channel itself may be what failed
        log.warning("could not tell the tenant the service is unavailable", exc_info=True)


#: Pauses before each new try of the tracker store: about 4 s in all, then the turn fails.
RETRY_PAUSES = (0.2, 0.5, 1.0, 2.0)

StoreCall = Callable[..., Awaitable[Any]]


def retried(method: str) -> StoreCall:
    """``FailSafeTrackerStore.<method>`` calling the real store, again after each pause of
    :data:`RETRY_PAUSES` while it raises, then raising: never the in-memory fallback."""

    async def call_store(failsafe: Any, *args: Any) -> Any:
        call = getattr(failsafe._tracker_store, method)
        for pause in RETRY_PAUSES:
            try:
                return await call(*args)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - a database's errors have many types
                log.warning(
                    "tracker store %s failed (%s); again in %.1f s",
                    method,
                    type(error).__name__,
                    pause,
                )
                await asyncio.sleep(pause)
        return await call(*args)

    return call_store


REPLACEMENTS: list[Replacement] = [
    (Agent, "handle_message", telling_failures(Agent.handle_message)),
    *(
        (FailSafeTrackerStore, method, retried(method))
        for method in ("retrieve", "retrieve_full_tracker", "save")
    ),
]
