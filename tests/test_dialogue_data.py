"""Consistency of the dialogue files with the actions: every response named exists, every
response written is reachable, every contract intent is trained and tested, every question of
the help-page FAQ (retrieval intent ``faq/<key>``) has its answer, its training and its tests."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

from actions.handoff import TOPIC_INTENTS

ROOT = Path(__file__).resolve().parents[1]
CONTRACT_INTENTS = {
    "register",
    "forgot_identifier",
    "forgot_password",
    "change_identifier",
    "change_password",
    "login_help",
    "activation_email_missing",
    "find_client_number",
    "update_insurance",
    "setup_direct_debit",
    "pay_rent",
    "check_balance",
    "unsubscribe",
    "move_out",
    "human_handoff",
    "greet",
    "goodbye",
    "thanks",
    "affirm",
    "deny",
    "bot_challenge",
    "out_of_scope",
    "inform",
}


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def domain() -> dict:
    return load(ROOT / "domain.yml")


def responses_named_in_actions(folder: Path = ROOT / "actions") -> set[str]:
    source = "\n".join(p.read_text() for p in folder.glob("*.py"))
    # "utter_action" is the key under which Rasa records the name of a response sent.
    return set(re.findall(r'"(utter_[a-z_]+)"', source)) - {"utter_action"}


def responses_in_dialogue_data() -> set[str]:
    text = "".join(path.read_text() for path in sorted((ROOT / "data").glob("*.yml")))
    return set(re.findall(r"action: (utter_[a-z_]+)", text))


RETRIEVAL_INTENT = "faq"


def examples(folder: Path) -> list[tuple[str, str]]:
    """(intent, example text) of every training example under ``folder``; ``faq/<key>`` kept."""
    found = []
    for path in sorted(folder.glob("*.yml")):
        for block in load(path).get("nlu", []):
            if "intent" in block:
                for line in block["examples"].splitlines():
                    if line.strip():
                        found.append((block["intent"], line.strip().removeprefix("- ").strip()))
    return found


def trained_intents(folder: Path, *, retrieval_keys: bool = False) -> dict[str, int]:
    """Examples per intent; a retrieval intent's ``faq/<key>`` counts for ``faq`` unless asked."""
    counts: dict[str, int] = {}
    for intent, _ in examples(folder):
        name = intent if retrieval_keys else intent.split("/")[0]
        counts[name] = counts.get(name, 0) + 1
    return counts


def faq_keys(folder: Path) -> dict[str, int]:
    """Examples per FAQ question key (``faq/<key>`` -> ``<key>``)."""
    return {
        intent.split("/", 1)[1]: count
        for intent, count in trained_intents(folder, retrieval_keys=True).items()
        if intent.startswith(f"{RETRIEVAL_INTENT}/")
    }


def faq_responses() -> dict[str, list[dict]]:
    prefix = f"utter_{RETRIEVAL_INTENT}/"
    return {
        name.removeprefix(prefix): variants
        for name, variants in domain()["responses"].items()
        if name.startswith(prefix)
    }


def test_every_response_named_by_an_action_exists_in_the_domain():
    missing = responses_named_in_actions() - set(domain()["responses"])
    assert not missing


def test_every_response_in_the_domain_is_used_somewhere():
    forms = domain()["forms"]
    asked = {f"utter_ask_{slot}" for form in forms.values() for slot in form["required_slots"]}
    asked |= {
        f"utter_ask_{name}_{slot}"
        for name, form in forms.items()
        for slot in form["required_slots"]
    }
    labels = {f"utter_topic_{intent}" for intent in (*TOPIC_INTENTS, "human_handoff")}
    used = responses_named_in_actions() | responses_in_dialogue_data() | asked | labels
    # Responses Rasa's own failure handlers and the actions send by a name written once
    # (bot/dialogue/default_texts.py: utter_service_unavailable).
    used |= responses_named_in_actions(ROOT / "bot" / "dialogue")
    # utter_faq sends the answer the ResponseSelector picked: utter_faq/<key> for faq/<key>.
    if f"utter_{RETRIEVAL_INTENT}" in responses_in_dialogue_data():
        used |= {f"utter_{RETRIEVAL_INTENT}/{key}" for key in faq_keys(ROOT / "data" / "nlu")}
    unused = set(domain()["responses"]) - used - {"utter_default"}
    assert not unused


def test_contract_intents_are_in_the_domain_trained_and_tested():
    declared = set(domain()["intents"])
    assert declared >= CONTRACT_INTENTS
    trained = trained_intents(ROOT / "data" / "nlu")
    assert {i: trained.get(i, 0) for i in declared if trained.get(i, 0) < 15} == {}
    tested = trained_intents(ROOT / "tests")
    assert {i for i in declared if tested.get(i, 0) < 5} == set()


def test_every_faq_question_has_one_answer_training_and_held_out_tests():
    trained = faq_keys(ROOT / "data" / "nlu")
    tested = faq_keys(ROOT / "tests")
    answers = faq_responses()
    assert RETRIEVAL_INTENT in domain()["intents"]
    assert set(trained) == set(answers), "each faq/<key> needs utter_faq/<key> and vice versa"
    assert {key: n for key, n in trained.items() if n < 10} == {}
    assert {key for key in trained if tested.get(key, 0) < 3} == set()
    assert set(tested) <= set(trained)
    assert all(len(variants) >= 1 and variants[0].get("text") for variants in answers.values())


def test_faq_answers_offer_flows_by_declared_intents_only():
    intents = set(domain()["intents"])
    for key, variants in faq_responses().items():
        for button in variants[0].get("buttons", []):
            assert button["payload"].removeprefix("/") in intents, (key, button)


def test_no_training_example_is_given_twice():
    seen: dict[str, str] = {}
    twice = []
    for intent, text in examples(ROOT / "data" / "nlu"):
        if text.lower() in seen:
            twice.append((seen[text.lower()], intent, text))
        seen[text.lower()] = intent
    assert twice == []


def test_the_nlu_test_set_is_held_out():
    trained = {text.lower() for _, text in examples(ROOT / "data" / "nlu")}
    assert [text for _, text in examples(ROOT / "tests") if text.lower() in trained] == []


def test_every_topic_button_targets_a_declared_intent():
    assert set(TOPIC_INTENTS) <= set(domain()["intents"])


def _utter_calls_with_text(path: Path) -> list[int]:
    """Line numbers of ``utter_message`` calls that pass literal text instead of a response."""
    tree = ast.parse(path.read_text())
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "attr", "") == "utter_message"
        and (node.args or any(k.arg in ("text", "template") for k in node.keywords))
    ]


def test_no_tenant_wording_in_action_code():
    """French sentences belong in domain.yml: actions send responses by name only."""
    for path in (ROOT / "actions").glob("*.py"):
        assert _utter_calls_with_text(path) == [], path
