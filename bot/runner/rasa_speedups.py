"""Work Rasa 3.6 repeats at every turn for nothing, done once when our Rasa server starts.

``bot.runner.rasa_main`` calls :func:`install` before Rasa's own ``main()``, so these apply to
the server the stack runs (``make run``, the bench, production), not to ``rasa train`` or
``rasa test``. Each one keeps Rasa's behaviour: same replies accepted, same errors raised.
Measured with ``make bench`` and py-spy (``bench/PROFILE.md``).

**The action server's replies.** ``RemoteAction._validate_action_result`` validates every
reply of the action server with ``jsonschema.validate(reply, schema)``. That function first
checks the *schema* against the JSON Schema 2020-12 meta-schema, at every call; with Rasa's
schema of all event types that check was about 60 % of our Rasa server's CPU (a form turn
calls the action server once to three times). The schema is a constant: here it is checked
once, and each reply is tested by one validator built from it. A reply it rejects goes
through Rasa's own method, which raises Rasa's own error.

**Loading the models.** ``RasaModel.load`` (DIET, the response selector, TED) builds each
model's variables by *training it for one step* on an example, then overwrites them with the
saved weights: tracing the training function with its gradients and optimizer was about half
of the server's cold start. Here the variables are built by one eager forward pass on the
prediction example instead, the saved weights are loaded over them (the optimizer's state,
useless for answering, is left in the file) and the prediction function is traced after
that, with the real weights, as Rasa does. The label embeddings computed during the eager
pass, from the random initial weights, are dropped before the weights are loaded; the
models answer exactly as Rasa's loading makes them answer (tests compare the two).
Fine-tuning, which needs the optimizer's state, still goes through Rasa's method.

**Events read back.** ``Event.resolve_by_type`` finds an event's class by its type name by
walking the whole tree of ``Event`` subclasses (``all_subclasses``, 26 recursive calls) for
each event deserialised: every event of the conversation when the tracker is read at the start
of a message, every event the action server returns. Here the classes are looked up in a table
made from the same walk, in the same order (the first class with the name wins, as in Rasa's
loop); a name missing from it makes the walk again, in case a subclass was imported since, and
then goes to Rasa's method (old ``topic`` events, the default, the error).

**Connections to the action server.** ``EndpointConfig.request`` opens a new
``aiohttp.ClientSession``, hence a new TCP connection, for every call of a custom action.
Here the sessions share one pool of kept-alive connections per event loop, with the same
headers, authentication and timeout as Rasa's. Connections idle for more than
``KEEPALIVE_SECONDS`` are closed by us, before the action server's own limit (Sanic: 5 s),
so that a request never goes out on a connection the server is closing.
"""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any
from weakref import WeakKeyDictionary

import aiohttp
from jsonschema import validators
from jsonschema.protocols import Validator
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel

from bot.runner import replacements
from bot.runner.replacements import Replacement

_rasa_validate_action_result = RemoteAction._validate_action_result
_rasa_load_model = RasaModel.load.__func__  # type: ignore[attr-defined]
_rasa_session = EndpointConfig.session
_rasa_resolve_by_type = Event.resolve_by_type
_event_classes: dict[str, type[Event]] = {}

KEEPALIVE_SECONDS = 2.0
_connection_pools: WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.TCPConnector] = (
    WeakKeyDictionary()
)


@cache
def action_result_validator() -> Validator:
    """One validator for Rasa's action-server reply schema, the schema checked once."""
    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def validate_action_result(action: RemoteAction, result: dict[str, Any]) -> bool:
    """Rasa's ``_validate_action_result`` without checking the schema again at every call."""
    if action_result_validator().is_valid(result):
        return True
    return _rasa_validate_action_result(action, result)


def resolve_event_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
    """Rasa's ``Event.resolve_by_type`` from a table of the event classes by type name."""
    found = _event_classes.get(type_name)
    if found is None:
        _event_classes.clear()
        for event_class in all_subclasses(Event):
            _event_classes.setdefault(event_class.type_name, event_class)
        found = _event_classes.get(type_name)
    if found is not None:
        return found
    return _rasa_resolve_by_type(type_name, default)


def load_model_for_prediction(
    model_class: type[RasaModel],
    model_file_name: str,
    model_data_example: RasaModelData,
    predict_data_example: RasaModelData | None = None,
    finetune_mode: bool = False,
    *args: Any,
    **kwargs: Any,
) -> RasaModel:
    """``RasaModel.load`` without its training step, for a model that only predicts."""
    if finetune_mode or predict_data_example is None:
        return _rasa_load_model(
            model_class,
            model_file_name,
            model_data_example,
            predict_data_example,
            finetune_mode,
            *args,
            **kwargs,
        )
    model = model_class(*args, **kwargs)
    traced = model._run_eagerly
    model._run_eagerly = True
    try:
        model.run_inference(predict_data_example)  # creates the variables, traces nothing
    finally:
        model._run_eagerly = traced
    model.prepared_for_prediction = False  # label embeddings of the random weights: dropped
    model.load_weights(model_file_name).expect_partial()
    model.run_inference(predict_data_example)
    return model


def connection_pool() -> aiohttp.TCPConnector:
    """The running event loop's pool of kept-alive connections (made on first use)."""
    loop = asyncio.get_running_loop()
    pool = _connection_pools.get(loop)
    if pool is None or pool.closed:
        pool = _connection_pools[loop] = aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS)
    return pool


async def close_connection_pool() -> None:
    """Close the running event loop's pool, if it has one (its connections with it)."""
    pool = _connection_pools.pop(asyncio.get_running_loop(), None)
    if pool is not None:
        await pool.close()


def pooled_session(endpoint: EndpointConfig) -> aiohttp.ClientSession:
    """Rasa's ``EndpointConfig.session``, over the loop's pool instead of a new connection."""
    try:
        pool = connection_pool()
    except RuntimeError:  # no running event loop: Rasa's own session
        return _rasa_session(endpoint)
    auth = (
        aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"])
        if endpoint.basic_auth
        else None
    )
    return aiohttp.ClientSession(
        headers=endpoint.headers,
        auth=auth,
        timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
        connector=pool,
        connector_owner=False,
    )


#: Each replaced method of Rasa's: its class, its name and what takes its place.
REPLACEMENTS: list[Replacement] = [
    (RemoteAction, "_validate_action_result", validate_action_result),
    (RasaModel, "load", classmethod(load_model_for_prediction)),
    (EndpointConfig, "session", pooled_session),
    (Event, "resolve_by_type", staticmethod(resolve_event_type)),
]


def install() -> None:
    """Put the speed-ups in place in this process (idempotent)."""
    replacements.install(REPLACEMENTS)
