"""End-to-end (issue 9, finding 5): after a direct debit set up in the chat and a password reset,
neither the portal database nor Rasa's tracker store holds the code, the reset token or the IBAN
in clear, the mandate sent is gone from the outbox, and the files are their owner's only.

Both SQLite databases are read with sqlite3, as stored: every value of every row of every table.
"""

from __future__ import annotations

import re
import sqlite3
import stat
import time
import uuid
from pathlib import Path

import pytest

from bot.privacy.redaction import IBAN_MARK
from tests.e2e.conftest import Assistant
from tests.e2e.test_account_flows import code_emails, emailed_code
from tests.e2e.test_verified_requests import upload, verified
from tests.portal.test_secrets_at_rest import IBAN, IBAN_FORMS

pytestmark = pytest.mark.e2e

CLAIRE = "claire.dupont@example.org"
#: Dates and decimal numbers (timestamps) are left out of the search for the 6-digit code: their
#: digits could hold it by chance.
_NUMBERS = re.compile(r"\d{4}-\d{2}-\d{2}[ T][\d:.]+([+-]\d{2}:?\d{2})?|\d+\.\d+")


def stored_rows(database: Path) -> str:
    """Every value of every row of every table of a SQLite file, one per line."""
    lines = []
    with sqlite3.connect(database) as connection:
        tables = [name for (name,) in connection.execute("SELECT name FROM sqlite_master")]
        for table in tables:
            if connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).fetchone():
                for row in connection.execute(f'SELECT * FROM "{table}"'):
                    lines += [f"{table}: {value!r}" for value in row if value is not None]
    return "\n".join(lines)


def outbox_settled(database: Path) -> bool:
    with sqlite3.connect(database) as connection:
        (waiting,) = connection.execute(
            "SELECT COUNT(*) FROM outbox_emails WHERE sent_at IS NULL AND failed_at IS NULL"
        ).fetchone()
    return waiting == 0


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_no_code_token_or_iban_is_left_after_a_direct_debit_and_a_reset(assistant: Assistant):
    tenant = f"rest:e2e-secrets-{uuid.uuid4().hex[:8]}"
    seen = len(code_emails(assistant, CLAIRE))
    assert "vérifier" in assistant.say_text(tenant, "je voudrais le prélèvement automatique")
    assert "code à 6 chiffres" in assistant.say_text(tenant, CLAIRE)
    code = emailed_code(assistant, CLAIRE, seen=seen)
    assert "IBAN" in assistant.say_text(tenant, code)

    reply = assistant.say_text(tenant, IBAN)
    assert "FR76 **** **** **** **** ***0 189" in reply
    if "Votre banque est-elle" in reply:
        reply = assistant.say_text(tenant, "oui")
    else:
        reply = assistant.say_text(tenant, "Banque des Tests")
    assert "Ces coordonnées sont-elles exactes" in reply
    reply = assistant.say_text(tenant, "oui")
    reply = assistant.say_text(tenant, "le 10")
    assert "RIB" in reply
    upload(assistant, reply, f"RIB {IBAN}.pdf")
    reply = assistant.say_text(tenant, "c'est envoyé")
    assert f"RIB {IBAN_MARK}.pdf" in reply and "le 10 du mois" in reply
    assert "mandat SEPA" in assistant.say_text(tenant, "oui")
    assistant.wait_for_email(CLAIRE, "mandat de prélèvement SEPA")

    reset_tenant = f"rest:e2e-secrets-{uuid.uuid4().hex[:8]}"
    resets = len(assistant.emails(CLAIRE, "Choisissez un nouveau mot de passe"))
    assistant.say_text(reset_tenant, "j'ai oublié mon mot de passe")
    assert "nouveau mot de passe" in assistant.say_text(reset_tenant, CLAIRE)
    reset = assistant.wait_for_email(CLAIRE, "Choisissez un nouveau mot de passe", seen=resets)
    (link,) = [link for link in reset["links"] if "/compte/nouveau-mot-de-passe" in link]
    token = re.search(r"jeton=([A-Za-z0-9_\-]+)", link).group(1)
    page = assistant.http.get(link, headers={"Accept": "text/html"})
    assert page.status_code == 200 and "mot de passe" in page.text  # a real, working token

    var = assistant.settings.var_dir
    deadline = time.monotonic() + 30
    while not outbox_settled(var / "portal.db"):
        assert time.monotonic() < deadline, "the outbox did not deliver everything"
        time.sleep(0.2)
    portal_rows, tracker_rows = stored_rows(var / "portal.db"), stored_rows(var / "tracker.db")

    for where, rows in (("portal.db", portal_rows), ("tracker.db", tracker_rows)):
        assert token not in rows, f"reset token in {where}"
        assert not re.search(rf"(?<!\d){code}(?!\d)", _NUMBERS.sub("<n>", rows)), where
        for form in IBAN_FORMS:
            assert form not in rows, f"{form} in {where}"
    with sqlite3.connect(var / "portal.db") as connection:
        attachments = connection.execute(
            "SELECT filename, length(data) FROM outbox_attachments"
        ).fetchall()
    assert attachments and all(size == 0 for _name, size in attachments)
    assert mode(var / "portal.db") == mode(var / "tracker.db") == 0o600
    maildir = var / "mailbox"
    assert {mode(path) for path in (maildir / "new").iterdir()} == {0o600}
    assert mode(maildir) == mode(var) == 0o700


def drafts_of(assistant: Assistant, tenant: str) -> int:
    with sqlite3.connect(assistant.settings.var_dir / "portal.db") as connection:
        (count,) = connection.execute(
            "SELECT COUNT(*) FROM direct_debit_drafts WHERE conversation_id = ?", (tenant,)
        ).fetchone()
    return count


def test_annuler_during_the_direct_debit_leaves_no_iban(assistant: Assistant, tenant_account: str):
    tenant = f"rest:e2e-secrets-{uuid.uuid4().hex[:8]}"
    reply = verified(assistant, tenant, tenant_account, "je voudrais le prélèvement automatique")
    assert "IBAN" in reply
    assert "***0 189" in assistant.say_text(tenant, IBAN)
    assert drafts_of(assistant, tenant) == 1

    assert "pas enregistré de demande" in assistant.say_text(tenant, "annuler")

    assert drafts_of(assistant, tenant) == 0
