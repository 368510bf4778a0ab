"""TED is not run when a rule has decided (issue 11, speed), and the assistant decides exactly
what it decided with TED run at every prediction: same action, same policy, at every step of
the test stories."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa.core.agent import Agent
from rasa.shared.core.events import ActionExecuted, ActionExecutionRejected
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.core.training_data.structures import StoryGraph
from rasa.utils.tensorflow.models import RasaModel

from bot.dialogue import ted_policy
from bot.dialogue.recipe import RULE_PREDICTION
from bot.runner import rasa_speedups

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "tenant-assistant.tar.gz"


@pytest.fixture(scope="module")
def agent() -> Iterator[Agent]:
    if not MODEL.exists():
        pytest.fail("No trained model in models/: run the README's test command, which trains it")
    rasas_loading = vars(RasaModel)["load"]
    RasaModel.load = classmethod(rasa_speedups.load_model_for_prediction)  # 20 s, not 60
    try:
        yield Agent.load(str(MODEL))
    finally:
        RasaModel.load = rasas_loading


@pytest.fixture(scope="module")
def conversations(agent: Agent) -> list[DialogueStateTracker]:
    """Every point of the test stories where the assistant chooses its next action."""
    domain = agent.domain
    steps = YAMLStoryReader(domain).read_from_file(str(ROOT / "tests" / "test_stories.yml"))
    stories = TrainingDataGenerator(
        StoryGraph(steps), domain, augmentation_factor=0, use_story_concatenation=False
    ).generate()
    points = []
    for story in stories:
        events = list(story.events)
        for index, event in enumerate(events):
            if isinstance(event, ActionExecuted) and index > 0:
                points.append(
                    DialogueStateTracker.from_events(story.sender_id, events[:index], domain.slots)
                )
    return points


def decisions(agent: Agent, trackers: list[DialogueStateTracker]) -> list[tuple[str, str]]:
    decided = []
    for tracker in trackers:
        prediction = agent.processor._predict_next_with_tracker(tracker.copy())
        action = agent.domain.action_names_or_texts[prediction.max_confidence_index]
        decided.append((action, prediction.policy_name))
    return decided


def test_the_trained_model_hands_the_rule_prediction_to_ted(agent: Agent) -> None:
    schema = agent.processor.model_metadata.predict_schema
    (ted,) = [
        node
        for name, node in schema.nodes.items()
        if name.startswith("run_") and node.uses is ted_policy.TEDPolicy
    ]
    assert schema.nodes[ted.needs[RULE_PREDICTION]].uses.__name__ == "RulePolicy"


def test_the_assistant_decides_as_with_ted_run_at_every_prediction(
    agent: Agent, conversations: list[DialogueStateTracker], monkeypatch: pytest.MonkeyPatch
) -> None:
    logging.getLogger("rasa").setLevel(logging.WARNING)
    skipped = 0
    rule_decides = ted_policy.rule_decides

    def counted(*args, **kwargs) -> bool:
        nonlocal skipped
        decides = rule_decides(*args, **kwargs)
        skipped += decides
        return decides

    monkeypatch.setattr(ted_policy, "rule_decides", counted)
    fast = decisions(agent, conversations)
    monkeypatch.setattr(ted_policy, "rule_decides", lambda *args, **kwargs: False)
    always = decisions(agent, conversations)
    assert fast == always
    # Most of the test stories' steps are decided by a rule: TED was not run for them.
    assert skipped > len(conversations) / 2


def test_a_rejected_action_lets_ted_speak() -> None:
    """After a rejected action the ensemble drops that action from every prediction, so TED's
    choice may count even when a rule had predicted it."""
    from rasa.core.policies.policy import PolicyPrediction

    rule = PolicyPrediction([0.0, 1.0], "RulePolicy", 6)
    fallback = PolicyPrediction([0.3, 0.0], "RulePolicy", 6)
    tracker = DialogueStateTracker.from_events("t", [ActionExecuted("action_listen")])
    assert ted_policy.rule_decides(rule, tracker, None)
    assert not ted_policy.rule_decides(fallback, tracker, None)
    assert not ted_policy.rule_decides(rule, tracker, precomputations=object())
    tracker.update(ActionExecutionRejected("registration_form"))
    assert not ted_policy.rule_decides(rule, tracker, None)
