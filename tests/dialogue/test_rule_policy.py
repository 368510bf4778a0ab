"""Our RulePolicy predicts what Rasa's does, parsing each learned rule once."""

from __future__ import annotations

import json
import logging
import tarfile
from pathlib import Path

import pytest
import yaml
from rasa.core.policies.rule_policy import RulePolicy as RasaRulePolicy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.importers.importer import TrainingDataImporter

from bot.dialogue.rule_policy import RULE_KEY_CACHE_SIZE, RulePolicy

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "models" / "tenant-assistant.tar.gz"


@pytest.fixture(scope="module")
def lookup() -> dict:
    """The rules of the trained model, as the running assistant loads them."""
    if not MODEL.exists():
        pytest.fail("No trained model in models/: run the README's test command, which trains it")
    with tarfile.open(MODEL) as archive:
        member = next(m for m in archive.getmembers() if m.name.endswith("/rule_policy.json"))
        return json.load(archive.extractfile(member))["lookup"]


@pytest.fixture(scope="module")
def project():
    importer = TrainingDataImporter.load_from_config(
        str(ROOT / "config.yml"), str(ROOT / "domain.yml"), [str(ROOT / "data")]
    )
    domain = importer.get_domain()
    trackers = TrainingDataGenerator(
        importer.get_stories(), domain, augmentation_factor=0
    ).generate()
    return domain, trackers


def loaded(policy_class: type[RasaRulePolicy], lookup: dict, tmp_path: Path) -> RasaRulePolicy:
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    (settings,) = [p for p in config["policies"] if p["name"].endswith("RulePolicy")]
    settings = {k: v for k, v in settings.items() if k != "name"}
    policy = policy_class(
        {**policy_class.get_default_config(), **settings},
        LocalModelStorage(tmp_path),
        Resource("rules"),
        ExecutionContext(GraphSchema({}), "test"),
    )
    policy.lookup = lookup
    return policy


def test_the_assistant_uses_it():
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    assert "bot.dialogue.rule_policy.RulePolicy" in [p["name"] for p in config["policies"]]


def test_every_learned_rule_fits_in_the_parse_cache(lookup):
    keys = len(lookup["rules"]) + len(lookup["rules_for_loop_unhappy_path"])
    assert keys < RULE_KEY_CACHE_SIZE


def test_it_predicts_what_rasa_predicts_and_parses_each_rule_once(lookup, project, tmp_path):
    domain, trackers = project
    ours = loaded(RulePolicy, lookup, tmp_path / "ours")
    theirs = loaded(RasaRulePolicy, lookup, tmp_path / "theirs")
    RulePolicy._rule_key_to_state.cache_clear()
    logging.getLogger("rasa").setLevel(logging.WARNING)
    compared = 0
    for tracker in trackers[::3]:
        expected = theirs.predict_action_probabilities(tracker, domain)
        got = ours.predict_action_probabilities(tracker, domain)
        assert (got.probabilities, got.events, got.policy_name.split(".")[-1]) == (
            expected.probabilities,
            expected.events,
            expected.policy_name.split(".")[-1],
        ), tracker.sender_id
        compared += expected.max_confidence > 0
    assert compared >= 20
    keys = len(lookup["rules"]) + len(lookup["rules_for_loop_unhappy_path"])
    assert RulePolicy._rule_key_to_state.cache_info().misses <= keys
