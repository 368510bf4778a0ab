"""Rasa's TEDPolicy, not run when a rule has already decided the next action.

Rasa runs every policy at every prediction, then keeps the most confident prediction, the
policy's priority breaking ties (``DefaultPolicyPredictionEnsemble._pick_best_policy``). A rule
that applies predicts its action with confidence 1.0, which TED cannot exceed, and RulePolicy
has the higher priority: TED's prediction is then computed for nothing. It was about a fifth of
our Rasa server's CPU per turn (``bench/PROFILE.md``), and most of our turns are decided by the
rules generated from the flow table.

This TED gets the rule policy's prediction (``rule_prediction``, a keyword-only argument that
``bot.dialogue.recipe`` wires in the prediction graph when the model is trained) and answers
"no opinion" (all zeros) when that prediction wins whatever TED says:

- the rule's best action has confidence 1.0 (a rule applies; not the fallback at 0.3);
- the last event is not an ``ActionExecutionRejected``: the ensemble then removes the rejected
  action from every prediction, so TED's second choice may count;
- TED gets no end-to-end features (``precomputations``): an end-to-end prediction would
  overrule the rule.

Otherwise, and for a model whose graph does not provide the rule's prediction, it is Rasa's
TED. The class keeps Rasa's name, as our RulePolicy does: predictions are reported under the
policy's name, and where this module is imported (``bot.runner.rasa_main``) Rasa's registry
resolves ``TEDPolicy`` to this class.
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import PolicyPrediction
from rasa.core.policies.ted_policy import TEDPolicy as RasaTEDPolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecutionRejected
from rasa.shared.core.trackers import DialogueStateTracker

#: A rule that applies predicts its action with this confidence (RulePolicy).
RULE_CONFIDENCE = 1.0


def rule_decides(
    rule_prediction: PolicyPrediction | None,
    tracker: DialogueStateTracker,
    precomputations: Any,
) -> bool:
    """Whether the rule policy's prediction wins the ensemble whatever TED predicts."""
    if rule_prediction is None or precomputations is not None:
        return False
    if rule_prediction.max_confidence < RULE_CONFIDENCE:
        return False
    return not (tracker.events and isinstance(tracker.events[-1], ActionExecutionRejected))


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITH_END_TO_END_SUPPORT, is_trainable=True
)
class TEDPolicy(RasaTEDPolicy):
    """Rasa's TEDPolicy that stays silent when a rule has decided."""

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        precomputations: Any = None,
        *,
        rule_prediction: PolicyPrediction | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        if rule_decides(rule_prediction, tracker, precomputations):
            return self._prediction(self._default_predictions(domain))
        return super().predict_action_probabilities(
            tracker, domain, rule_only_data, precomputations, **kwargs
        )
