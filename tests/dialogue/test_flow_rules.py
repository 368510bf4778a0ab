"""The dialogue table and the rules generated from it: in step with each other and the domain."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.dialogue.rules import generate, render
from bot.dialogue.table import load, parse
from tests.actions.helpers import action_names

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "data" / "flow_rules.yml"


@pytest.fixture(scope="module")
def domain() -> dict:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def test_generated_rules_are_up_to_date():
    assert GENERATED.read_text(encoding="utf-8") == render(load()), (
        "run `python -m bot.dialogue` after editing bot/dialogue/flows.yml"
    )


def test_every_form_of_the_domain_is_in_the_table_and_back(domain):
    assert set(load().forms) == set(domain["forms"])


def test_everything_the_table_names_exists_in_the_domain(domain):
    table = load()
    known = {*action_names(domain), *domain["responses"], *domain["forms"]}
    named = {step for form in table.forms.values() for step in (*form.submit, *form.cancel)}
    named |= {step for steps in table.flows.values() for step in steps}
    named |= {step for steps in table.verified_flows.values() for step in steps}
    named |= {step for steps in table.exits.values() for step in steps}
    named |= table.closing_questions
    assert named - known == set()
    assert set(table.interruption_intents) <= set(domain["intents"])
    assert {form.topic for form in table.forms.values() if form.topic} <= set(table.request_intents)


def test_every_flow_intent_is_refused_as_an_answer_by_every_text_slot(domain):
    """Otherwise "j'ai oublié mon mot de passe" typed into a form fills its slot."""
    interruptions = set(load().interruption_intents)
    for name, slot in domain["slots"].items():
        for mapping in slot.get("mappings", []):
            if mapping["type"] == "from_text":
                assert interruptions <= set(mapping.get("not_intent", [])), name


def rules_by_name() -> dict[str, dict]:
    return {rule["rule"]: rule for rule in generate(load())}


def test_a_request_inside_a_form_drops_it_then_starts_the_new_flow():
    rule = rules_by_name()["forgot_password leaves payment_form"]
    assert rule["condition"] == [{"active_loop": "payment_form"}]
    assert [step.get("action") or step.get("intent") for step in rule["steps"]] == [
        "forgot_password",
        "action_deactivate_loop",
        None,
        "utter_payment_cancelled",
        "utter_forgot_password_intro",
        "forgot_password_form",
        None,
    ]


def test_a_verified_request_inside_a_form_checks_verification_both_ways():
    rules = rules_by_name()
    verified = rules["update_insurance leaves register_form, verified"]["steps"]
    unverified = rules["update_insurance leaves register_form, not verified yet"]["steps"]
    assert {"action": "action_forget_identity"} in verified
    assert verified[-2:] == [{"action": "insurance_form"}, {"active_loop": "insurance_form"}]
    assert unverified[-2:] == [{"action": "verify_form"}, {"active_loop": "verify_form"}]


def test_asking_for_the_form_being_filled_does_not_restart_it():
    assert not any(name.startswith("pay_rent leaves payment_form") for name in rules_by_name())


def test_every_exit_ends_every_form_and_every_form_end_offers_help():
    table = load()
    rules = rules_by_name()
    for form in table.forms.values():
        for intent in table.exits:
            steps = rules[f"{intent} ends {form.name}"]["steps"]
            assert steps[1:3] == [{"action": "action_deactivate_loop"}, {"active_loop": None}]
        complete = rules[f"{form.name} is complete"]["steps"]
        assert (complete[-1] == {"action": "utter_anything_else"}) == form.offer_help
    assert rules["cancel ends direct_debit_form"]["steps"][3] == {
        "action": "action_cancel_direct_debit"
    }


def test_a_table_without_help_offer_generates_none():
    table = parse(
        {
            "forms": {"f_form": {"submit": ["action_x"], "cancel": [], "offer_help": False}},
            "flows": {"start_f": ["f_form"]},
            "verified_flows": {},
            "exits": {},
            "closing_questions": [],
        }
    )
    steps = [rule["steps"] for rule in generate(table) if rule["rule"] == "f_form is complete"]
    assert steps == [
        [
            {"action": "f_form"},
            {"active_loop": None},
            {"slot_was_set": [{"requested_slot": None}]},
            {"action": "action_x"},
        ]
    ]


def test_a_one_step_verified_flow_waits_for_the_tenant_after_the_verification():
    """Without it, the balance shown after the code was followed by "Je n'ai pas bien compris"."""
    rules = rules_by_name()
    assert rules["check_balance goes on once verified"]["steps"] == [
        {"action": "action_show_balance"},
        {"action": "action_listen"},
    ]
    assert rules["change_password goes on once verified"]["steps"][-1] == {
        "action": "action_listen"
    }
