"""When the action server cannot be reached, the tenant is told so and the turn ends there.

Rasa 3.6 logs a custom action it could not run (connection refused, timeout, an error status)
and goes on predicting as if the action had returned nothing: the tenant reads nothing, or
the fallback ("Je n'ai pas bien compris"), and a form whose validation failed moves on without
it (issue 12: with the action server down, the password flow never asked for the e-mail).

Here each call to the action server that fails is noted for the action being run (a form's
validation and its questions are calls of their own, made inside the form's action). Once Rasa
has logged that action, the tenant gets ``utter_service_unavailable`` (a response of the
domain, French or English as any other) and the assistant listens: nothing more is predicted
in that turn. The form, if one was active, stays where it was, so that when the action server
is back the tenant's next answer is validated as usual. A rejection by the action server
(``ActionExecutionRejection``: "this is not an answer to my question") is Rasa's business and
goes through untouched. A conversation's first message runs our ``action_session_start``
first (it verifies a logged-in widget's conversation): when that call fails, Rasa's own session
start is run instead, silently, so that a help-page question is still answered and only a
request that needs the action server gets the notice. :data:`REPLACEMENTS` is installed by
``bot.runner.rasa_main``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import aiohttp
from rasa.core.actions.action import (
    ActionExecutionRejection,
    ActionSessionStart,
    RemoteAction,
    create_bot_utterance,
)
from rasa.core.processor import MessageProcessor
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.events import ActionExecuted
from rasa.shared.exceptions import RasaException

from bot.dialogue.default_texts import UNAVAILABLE_RESPONSE

log = logging.getLogger(__name__)

#: What a call to the action server raises when it could not be made or answered.
CALL_FAILURES = (RasaException, aiohttp.ClientError, asyncio.TimeoutError)


@dataclass
class ActionRun:
    """One action being run by the processor: whether a call to the action server failed."""

    call_failed: bool = False


_current: ContextVar[ActionRun | None] = ContextVar("action_failures_run", default=None)

RemoteRun = Callable[..., Awaitable[list[Any]]]
ProcessorRunAction = Callable[..., Awaitable[bool]]


def noting_call_failures(run: RemoteRun) -> RemoteRun:
    """``RemoteAction.run`` that notes, for the action being run, a call that failed (our
    session start falls back to Rasa's instead)."""

    async def run_noting_failures(action: RemoteAction, *args: Any, **kwargs: Any) -> list[Any]:
        try:
            return await run(action, *args, **kwargs)
        except ActionExecutionRejection:
            raise
        except CALL_FAILURES:
            if action.name() == ACTION_SESSION_START_NAME:
                log.warning("action server out of reach: Rasa's own session start instead")
                return await ActionSessionStart().run(*args, **kwargs)
            current = _current.get()
            if current is not None:
                current.call_failed = True
            raise

    return run_noting_failures


def telling_unavailability(run_action: ProcessorRunAction) -> ProcessorRunAction:
    """``MessageProcessor._run_action`` that, after an action whose call to the action server
    failed, tells the tenant, listens, and predicts nothing more in this turn."""

    async def run_action_or_tell(
        processor: MessageProcessor,
        action: Any,
        tracker: Any,
        output_channel: Any,
        nlg: Any,
        prediction: Any,
    ) -> bool:
        run = ActionRun()
        token = _current.set(run)
        try:
            predict_another = await run_action(
                processor, action, tracker, output_channel, nlg, prediction
            )
        finally:
            _current.reset(token)
        if not run.call_failed:
            return predict_another
        await tell_unavailable(processor, tracker, output_channel, nlg)
        return False

    return run_action_or_tell


async def tell_unavailable(
    processor: MessageProcessor, tracker: Any, output_channel: Any, nlg: Any
) -> None:
    """``utter_service_unavailable`` sent and logged as Rasa logs a response, then listening."""
    message = await nlg.generate(UNAVAILABLE_RESPONSE, tracker, output_channel.name())
    tracker.update(ActionExecuted(UNAVAILABLE_RESPONSE))
    if message:
        message["utter_action"] = UNAVAILABLE_RESPONSE
        utterance = create_bot_utterance(message)
        tracker.update(utterance)
        await processor.execute_side_effects([utterance], tracker, output_channel)
    tracker.update(ActionExecuted(ACTION_LISTEN_NAME))


#: Rasa's methods, wrapped (installed by ``bot.runner.rasa_main``).
REPLACEMENTS = [
    (RemoteAction, "run", noting_call_failures(RemoteAction.run)),
    (MessageProcessor, "_run_action", telling_unavailability(MessageProcessor._run_action)),
]
