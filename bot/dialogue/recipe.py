"""Rasa's default recipe, with the rule policy's prediction handed to our TED.

The prediction graph is built by the recipe when the model is trained and stored in the
model: ``bot.runner.rasa_main`` installs this before ``rasa train`` (``make train``,
``make test``), and a model trained so carries the wiring to every server that loads it.
``bot.dialogue.ted_policy`` says why TED wants that prediction. A model trained by plain
``rasa train`` has no such wiring and its TED runs at every prediction, as Rasa's.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.graph import SchemaNode
from rasa.engine.recipes.default_recipe import DefaultV1Recipe

from bot.dialogue.ted_policy import TEDPolicy
from bot.runner import replacements
from bot.runner.replacements import Replacement

RULE_PREDICTION = "rule_prediction"

_rasa_add_core_predict_nodes = DefaultV1Recipe._add_core_predict_nodes


def wire_rule_prediction(predict_nodes: dict[str, SchemaNode]) -> None:
    """Gives each of our TED nodes the rule policy's prediction, when the graph has both."""
    rule_nodes = [
        name
        for name, node in predict_nodes.items()
        if name.startswith("run_") and issubclass(node.uses, RulePolicy)
    ]
    if len(rule_nodes) != 1:
        return
    for name, node in list(predict_nodes.items()):
        if name.startswith("run_") and issubclass(node.uses, TEDPolicy):
            needs = {**node.needs, RULE_PREDICTION: rule_nodes[0]}
            predict_nodes[name] = dataclasses.replace(node, needs=needs)


def add_core_predict_nodes(
    recipe: DefaultV1Recipe,
    predict_config: dict[str, Any],
    predict_nodes: dict[str, SchemaNode],
    *args: Any,
    **kwargs: Any,
) -> None:
    """Rasa's policy nodes, then the rule prediction wired into our TED."""
    _rasa_add_core_predict_nodes(recipe, predict_config, predict_nodes, *args, **kwargs)
    wire_rule_prediction(predict_nodes)


#: Each replaced method of Rasa's: its class, its name and what takes its place.
REPLACEMENTS: list[Replacement] = [
    (DefaultV1Recipe, "_add_core_predict_nodes", add_core_predict_nodes),
]


def install() -> None:
    """Put the wiring in place in this process (idempotent)."""
    replacements.install(REPLACEMENTS)
