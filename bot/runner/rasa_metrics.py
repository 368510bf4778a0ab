"""The Rasa server's Prometheus metrics: tenant turns, their latency and the fallbacks.

- ``rasa_turns_total{channel}``: messages handled (one per tenant message, whatever the reply);
- ``rasa_turn_duration_seconds{channel}``: from the message's arrival in the processor to the
  tracker saved (NLU, every action of the turn, the action server's calls included);
- ``rasa_fallbacks_total{channel}``: turns where Rasa did not understand: the NLU gave
  ``nlu_fallback`` (FallbackClassifier) or the policies ran ``action_default_fallback``. A
  rising share of fallbacks among turns means the model misses what tenants now ask.

``channel`` is the name of an input channel this server registered (``credentials``), or
``other``: the REST channel takes ``input_channel`` from the request body.

Where: ``MessageProcessor.handle_message`` is the turn (every channel goes through it), so it
is timed and counted there. The fallback is seen in ``_run_prediction_loop``, which gets the
turn's tracker: the parsed intent, and the actions appended during the loop (only those are
scanned, not the conversation). The two talk through a context variable holding this turn's
record, set by the first and filled by the second. :data:`REPLACEMENTS` is installed by
``bot.runner.rasa_main``.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Awaitable, Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter, Histogram
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import ActionExecuted

from bot.observability.metrics import LATENCY_BUCKETS, bounded, new_registry
from bot.runner.replacements import Replacement

FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTIONS = frozenset({"action_default_fallback"})

#: One Rasa server per process: one registry.
REGISTRY = new_registry()
TURNS = Counter(
    "rasa_turns", "Tenant messages handled, by channel.", ("channel",), registry=REGISTRY
)
TURN_LATENCY = Histogram(
    "rasa_turn_duration_seconds",
    "Time Rasa took to handle a tenant message, by channel.",
    ("channel",),
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
FALLBACKS = Counter(
    "rasa_fallbacks",
    "Turns answered by a fallback (nlu_fallback or action_default_fallback), by channel.",
    ("channel",),
    registry=REGISTRY,
)

#: The input channels this server registered: the only ``channel`` label values.
_known_channels: set[str] = set()


def know_channels(names: Iterable[str]) -> None:
    """Allow these channel names as label values (the server's input channels)."""
    _known_channels.update(names)


@dataclass
class Turn:
    """What the prediction loop learnt about the turn being handled."""

    fallback: bool = False


_turn: ContextVar[Turn | None] = ContextVar("rasa_metrics_turn", default=None)

HandleMessage = Callable[[Any, Any], Awaitable[Any]]
PredictionLoop = Callable[[Any, Any, Any], Awaitable[None]]


def counting_turns(handle_message: HandleMessage) -> HandleMessage:
    """``handle_message`` counted and timed by channel, its fallback counted."""

    async def measured_handle_message(processor: Any, message: Any) -> Any:
        channel = bounded(message.input_channel, _known_channels)
        turn = Turn()
        token = _turn.set(turn)
        started = time.perf_counter()
        try:
            return await handle_message(processor, message)
        finally:
            _turn.reset(token)
            TURN_LATENCY.labels(channel).observe(time.perf_counter() - started)
            TURNS.labels(channel).inc()
            if turn.fallback:
                FALLBACKS.labels(channel).inc()

    return measured_handle_message


def watching_fallbacks(prediction_loop: PredictionLoop) -> PredictionLoop:
    """``_run_prediction_loop`` that tells the turn being handled whether it fell back."""

    async def watched_prediction_loop(processor: Any, output_channel: Any, tracker: Any) -> None:
        since = len(tracker.events)
        try:
            await prediction_loop(processor, output_channel, tracker)
        finally:
            turn = _turn.get()
            if turn is not None and not turn.fallback:
                turn.fallback = fell_back(tracker, since)

    return watched_prediction_loop


def fell_back(tracker: Any, since: int) -> bool:
    """Whether the message was not understood, or an action after event ``since`` was a
    fallback action."""
    intent = (getattr(tracker.latest_message, "intent", None) or {}).get("name")
    if intent == FALLBACK_INTENT:
        return True
    return any(
        isinstance(event, ActionExecuted) and event.action_name in FALLBACK_ACTIONS
        for event in itertools.islice(tracker.events, since, None)
    )


#: Rasa's methods, timed and watched (installed by ``bot.runner.rasa_main``).
REPLACEMENTS: list[Replacement] = [
    (MessageProcessor, "handle_message", counting_turns(MessageProcessor.handle_message)),
    (
        MessageProcessor,
        "_run_prediction_loop",
        watching_fallbacks(MessageProcessor._run_prediction_loop),
    ),
]
