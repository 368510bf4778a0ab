"""Rasa's RulePolicy, with a parse cache that holds all of our rules.

Every prediction tests each learned rule against the conversation, and each test reads the rule
back from its JSON key through a cache of 1 000 entries (``RulePolicy._rule_key_to_state``). The
rules generated from ``bot/dialogue/flows.yml`` make more keys than that (about 1 050), so the
cache, walked in the same order at every prediction, never hits: each prediction parsed every
rule's JSON again, at run time as in the contradiction check of ``rasa train``. With a cache as
large as the rule set, each key is parsed once.

The class keeps the name ``RulePolicy``: Rasa recognises rule predictions by the policy's name
(``rasa.core.policies.ensemble.is_not_in_training_data``).
"""

from __future__ import annotations

import functools
import json
import warnings

from rasa.core.policies import rule_policy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe

# Rasa's recipe validator compares the policy class with its own by identity, so it warns that
# restart and back would not work; this subclass handles them exactly as Rasa's class does.
warnings.filterwarnings("ignore", message="'RulePolicy' is not included in the model's")

#: Parsed rule keys kept in memory: well above the number of keys of the trained rule set.
RULE_KEY_CACHE_SIZE = 16_384


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class RulePolicy(rule_policy.RulePolicy):
    """Rasa's RulePolicy whose rule-key parse cache holds the whole rule set."""

    @staticmethod
    @functools.lru_cache(maxsize=RULE_KEY_CACHE_SIZE)
    def _rule_key_to_state(rule_key: str) -> list[dict]:
        return json.loads(rule_key)
