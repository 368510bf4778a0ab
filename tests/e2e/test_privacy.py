"""End-to-end: what a tenant types reaches the tracker database and the logs masked.

The Rasa server writes through ``MaskingSQLTrackerStore`` (``endpoints.yml``) into
``<var_dir>/tracker.db``; the rows are read back here with sqlite3.
"""

from __future__ import annotations

import json
import sqlite3
import uuid

import pytest

from bot.privacy.redaction import CARD_MARK, CODE_MARK, IBAN_MARK
from tests.e2e.conftest import Assistant
from tests.e2e.test_account_flows import code_emails, emailed_code

pytestmark = pytest.mark.e2e

IBAN = "FR76 3000 6000 0112 3456 7890 189"
CARD = "4970 1012 3456 7893"  # Luhn-valid
SECRETS = (IBAN, IBAN.replace(" ", ""), CARD, CARD.replace(" ", ""))


def sender() -> str:
    return f"rest:e2e-privacy-{uuid.uuid4().hex[:8]}"


def tracker_rows(assistant: Assistant) -> list[tuple[str, str, str]]:
    with sqlite3.connect(assistant.settings.var_dir / "tracker.db") as connection:
        return connection.execute("SELECT sender_id, type_name, data FROM events").fetchall()


def stored_texts(assistant: Assistant, tenant: str) -> list[str]:
    """The tenant's stored messages and slot values, decoded."""
    texts = []
    for sender_id, _type, data in tracker_rows(assistant):
        event = json.loads(data)
        if sender_id == tenant and event["event"] in ("user", "bot", "slot"):
            value = event.get("text") if event["event"] != "slot" else event.get("value")
            texts.append(str(value))
    return texts


def logs(assistant: Assistant) -> str:
    return "\n".join(
        path.read_text(encoding="utf-8", errors="replace")
        for path in sorted((assistant.settings.var_dir / "logs").glob("*.log"))
    )


def test_iban_and_card_number_are_masked_in_the_tracker_store(assistant: Assistant):
    tenant = sender()
    assistant.say_text(tenant, f"Bonjour, mon IBAN est {IBAN} et ma carte {CARD}")
    # the same values as the answer to a form question (the slot is filled from the text)
    assistant.say_text(tenant, "je voudrais m'inscrire sur l'espace locataire")
    assistant.say_text(tenant, f"{IBAN.lower()} / {CARD.replace(' ', '-')}")

    rows = tracker_rows(assistant)
    everything = "\n".join(f"{sender_id}|{kind}|{data}" for sender_id, kind, data in rows)
    for secret in SECRETS + (IBAN.lower(), CARD.replace(" ", "-")):
        assert secret not in everything
    texts = stored_texts(assistant, tenant)
    assert len(texts) > 3, "the conversation must be in tracker.db, not in memory"
    assert f"Bonjour, mon IBAN est {IBAN_MARK} et ma carte {CARD_MARK}" in texts
    assert f"{IBAN_MARK} / {CARD_MARK}" in texts
    for secret in SECRETS:
        assert secret not in logs(assistant)


def test_a_code_is_verified_in_its_turn_and_stored_masked(assistant: Assistant):
    """The one-time code reaches the portal in the turn it is typed, never the database."""
    tenant, email = sender(), "minh.nguyen@example.org"
    seen = len(code_emails(assistant, email))
    assert "vérifier" in assistant.say_text(tenant, "combien je dois ?")
    assert "code à 6 chiffres" in assistant.say_text(tenant, email)
    code = emailed_code(assistant, email, seen=seen)

    assert "vérifié" in assistant.say_text(tenant, f"mon code est {code}")

    texts = stored_texts(assistant, tenant)
    assert not [text for text in texts if code in text]
    assert f"mon code est {CODE_MARK}" in texts
