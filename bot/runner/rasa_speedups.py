"""Work Rasa 3.6 repeats at every turn for nothing, done once when our Rasa server starts.

``bot.runner.rasa_main`` calls :func:`install` before Rasa's own ``main()``, so these apply to
the server the stack runs (``make run``, the bench, production), not to ``rasa train`` or
``rasa test``. Each one keeps Rasa's behaviour: same replies accepted, same errors raised.
Measured with ``make bench`` and py-spy (``bench/PROFILE.md``).

**The action server's replies.** ``RemoteAction._validate_action_result`` validates every
reply of the action server with ``jsonschema.validate(reply, schema)``. That function first
checks the *schema* against the JSON Schema 2020-12 meta-schema, at every call; with Rasa's
schema of all event types that check was about 60 % of our Rasa server's CPU (a form turn
calls the action server two to four times). The schema is a constant: here it is checked
once, and each reply is tested by one validator built from it. A reply it rejects goes
through Rasa's own method, which raises Rasa's own error.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema import validators
from jsonschema.protocols import Validator
from rasa.core.actions.action import RemoteAction

_rasa_validate_action_result = RemoteAction._validate_action_result


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


def install() -> None:
    """Put the speed-ups in place in this process (idempotent)."""
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
