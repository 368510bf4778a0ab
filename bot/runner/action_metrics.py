"""The action server's Prometheus metrics: every action run, by action name and outcome.

- ``action_server_action_runs_total{action, outcome}``: ``outcome`` is ``success``,
  ``rejected`` (a form validation refused the value: ``ActionExecutionRejection``),
  ``not_found`` (no action by that name) or ``error`` (the action raised);
- ``action_server_action_duration_seconds{action}``: time the action ran.

rasa_sdk's executor is the one place that knows both the action and how it ended, so its
``run`` is wrapped (:data:`REPLACEMENTS`, installed by ``action_probes.add_probes``). ``action``
is a registered action's name, or ``other``: the name comes from the request.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import Counter, Histogram
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException

from bot.observability.metrics import LATENCY_BUCKETS, bounded, new_registry
from bot.runner import replacements
from bot.runner.replacements import Replacement

#: One action server per process: one registry.
REGISTRY = new_registry()
ACTION_RUNS = Counter(
    "action_server_action_runs",
    "Custom actions run, by action name and outcome.",
    ("action", "outcome"),
    registry=REGISTRY,
)
ACTION_LATENCY = Histogram(
    "action_server_action_duration_seconds",
    "Time a custom action took, by action name.",
    ("action",),
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)

_sdk_run = ActionExecutor.run


async def measured_run(executor: ActionExecutor, action_call: dict[str, Any]) -> Any:
    """rasa_sdk's ``ActionExecutor.run``, counted and timed."""
    action = bounded(action_call.get("next_action"), executor.actions)
    outcome = "error"
    started = time.perf_counter()
    try:
        result = await _sdk_run(executor, action_call)
        outcome = "success"
        return result
    except ActionExecutionRejection:
        outcome = "rejected"
        raise
    except ActionNotFoundException:
        outcome = "not_found"
        raise
    finally:
        ACTION_LATENCY.labels(action).observe(time.perf_counter() - started)
        ACTION_RUNS.labels(action, outcome).inc()


REPLACEMENTS: list[Replacement] = [(ActionExecutor, "run", measured_run)]


def install() -> None:
    """Count the action runs of this process (idempotent)."""
    replacements.install(REPLACEMENTS)
