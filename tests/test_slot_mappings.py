"""Slot mappings of the domain: free text answers only the question asked, never a question or
a request; the values with a shape are taken from any message of the forms that ask for them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

#: Questions and requests: answered by the rules inside a form, never taken as a slot value.
INTERRUPTIONS = {
    "cancel",
    "human_handoff",
    "ask_help",
    "bot_challenge",
    "find_client_number",
    "login_help",
    "out_of_scope",
    "move_out",
    "faq",
    "goodbye",
    "register",
    "forgot_identifier",
    "forgot_password",
    "change_identifier",
    "change_password",
    "activation_email_missing",
    "update_insurance",
    "setup_direct_debit",
    "pay_rent",
    "check_balance",
    "unsubscribe",
    "complaint",
}


def _domain_text() -> str:
    return (ROOT / "domain.yml").read_text(encoding="utf-8")


def _slots() -> dict[str, Any]:
    return yaml.safe_load(_domain_text())["slots"]


def _from_text_mappings() -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, mapping)
        for name, slot in _slots().items()
        for mapping in slot.get("mappings", [])
        if mapping.get("type") == "from_text"
    ]


def test_there_are_free_text_mappings_to_check():
    assert len(_from_text_mappings()) >= 15


@pytest.mark.parametrize(("slot", "mapping"), _from_text_mappings(), ids=lambda v: str(v)[:30])
def test_free_text_never_takes_a_question_or_a_request(slot, mapping):
    excluded = set(mapping.get("not_intent", []))
    assert excluded == INTERRUPTIONS, (
        sorted(INTERRUPTIONS - excluded),
        sorted(excluded - INTERRUPTIONS),
    )


def test_the_list_is_written_once():
    text = _domain_text()
    assert len(re.findall(r"not_intent: &interruptions\b", text)) == 1
    assert text.count("not_intent: *interruptions") == len(_from_text_mappings()) - 1


def test_every_interruption_is_an_intent_of_the_domain():
    intents = set(yaml.safe_load(_domain_text())["intents"])
    assert intents >= INTERRUPTIONS


def test_yes_no_questions_are_answered_by_intent_only():
    for name, slot in _slots().items():
        if slot["type"] == "bool" and name != "verified":
            types = {m["type"] for m in slot["mappings"]}
            assert types == {"from_intent"}, name
            intents = {m["intent"] for m in slot["mappings"]}
            assert intents == {"affirm", "deny"}, name


@pytest.mark.parametrize(
    ("slot", "entity", "forms"),
    [
        ("client_number", "client_number", {"register_form", "forgot_identifier_form"}),
        ("email", "email", {"register_form", "forgot_password_form", "activation_resend_form"}),
        ("payment_amount", "amount", {"payment_form"}),
        ("debit_day", "debit_day", {"direct_debit_form"}),
        ("iban", "iban", {"direct_debit_form"}),
        ("new_email", "email", {"change_identifier_form"}),
    ],
)
def test_values_with_a_shape_fill_their_slot_whatever_was_asked(slot, entity, forms):
    """The mapping names the form only (no requested slot): any message of the form, and the
    message that starts it, can give or correct the value."""
    mapping = next(
        m
        for m in _slots()[slot]["mappings"]
        if m["type"] == "from_entity" and m["entity"] == entity
    )
    assert {c["active_loop"] for c in mapping["conditions"]} == forms
    assert all("requested_slot" not in c for c in mapping["conditions"])
    # The entity comes first: "non, 60 euros" gives 60 euros, not the whole sentence.
    assert _slots()[slot]["mappings"][0] is mapping or _slots()[slot]["mappings"][0] == mapping
