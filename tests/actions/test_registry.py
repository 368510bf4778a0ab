"""The action server starts: the SDK can register every action, and they match the domain."""

from __future__ import annotations

from rasa_sdk.executor import ActionExecutor

from tests.actions.helpers import action_names, domain


def test_the_action_package_registers_exactly_the_domain_actions():
    executor = ActionExecutor()
    executor.register_package("actions")
    assert set(executor.actions) == action_names(domain())
