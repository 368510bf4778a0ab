"""Rasa's RulePolicy, made fast enough for our generated rule set, with the same predictions.

Every prediction tests each learned rule against the conversation (``_get_possible_keys``), and
each test reads the rule back from its JSON key through a cache of 1 000 entries
(``RulePolicy._rule_key_to_state``). The rules generated from ``bot/dialogue/flows.yml`` make
more keys than that (about 1 070), so the cache, walked in the same order at every prediction,
never hit: each prediction parsed every rule's JSON again, at run time as in the contradiction
check of ``rasa train``. Here each key is parsed once, and a prediction only tests the rules whose
last step follows the conversation's last action (a rule can only apply after its own action).

The class keeps the name ``RulePolicy``: Rasa recognises rule predictions by the policy's name
(``rasa.core.policies.ensemble.is_not_in_training_data``).
"""

from __future__ import annotations

import functools
import json
import warnings
from collections import defaultdict
from typing import Any

from rasa.core.policies import rule_policy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET
from rasa.shared.core.domain import State

# Rasa's recipe validator compares the policy class with its own by identity, so it warns that
# restart and back would not work; this subclass handles them exactly as Rasa's class does.
warnings.filterwarnings("ignore", message="'RulePolicy' is not included in the model's")

#: Parsed rule keys kept in memory: well above the number of keys of the trained rule set.
RULE_KEY_CACHE_SIZE = 16_384

#: What a rule's last step requires of the action before it; None: a conversation start.
Requirement = frozenset | None


def _required_action(state: State) -> Requirement:
    """The values a rule state requires of the previous action (``_does_rule_match_state``)."""
    action = state.get(PREVIOUS_ACTION)
    if not action:
        return None
    return frozenset(
        (key, tuple(value) if isinstance(value, list) else value)
        for key, value in action.items()
        if value and value != SHOULD_NOT_BE_SET
    )


def _may_follow(requirement: Requirement, conversation_state: State) -> bool:
    """False when the rule cannot apply to this state, whatever the rest of the state."""
    action = conversation_state.get(PREVIOUS_ACTION)
    if requirement is None or not action:
        return requirement is None and not action
    return all(action.get(key) == value for key, value in requirement)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class RulePolicy(rule_policy.RulePolicy):
    """Rasa's RulePolicy with every rule key parsed once and rules grouped by their last action."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # id(lookup) -> (lookup, its size when grouped, its keys by requirement)
        self._groups: dict[int, tuple[dict, int, dict[Requirement, list[str]]]] = {}

    @staticmethod
    @functools.lru_cache(maxsize=RULE_KEY_CACHE_SIZE)
    def _rule_key_to_state(rule_key: str) -> list[dict]:
        return json.loads(rule_key)

    def _grouped(self, lookup: dict[str, str]) -> dict[Requirement, list[str]]:
        """The keys of ``lookup`` by what their last step requires of the previous action."""
        cached = self._groups.get(id(lookup))
        if cached is not None and cached[0] is lookup and cached[1] == len(lookup):
            return cached[2]
        groups: dict[Requirement, list[str]] = defaultdict(list)
        for key in lookup:
            groups[_required_action(self._rule_key_to_state(key)[-1])].append(key)
        self._groups[id(lookup)] = (lookup, len(lookup), groups)
        return groups

    def _get_possible_keys(self, lookup: dict[str, str], states: list[State]) -> set[str]:
        if not states:
            return super()._get_possible_keys(lookup, states)
        current = states[-1]
        candidates = {
            key: lookup[key]
            for requirement, keys in self._grouped(lookup).items()
            if _may_follow(requirement, current)
            for key in keys
        }
        # Rasa's own filter, over the rules that can follow the last action only.
        return super()._get_possible_keys(candidates, states)
