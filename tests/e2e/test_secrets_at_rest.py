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

from bot.portal.db import create_engine, session_factory
from bot.portal.models import AccountStatus
from bot.portal.services.demo import _account, _household, _lease
from bot.privacy.redaction import IBAN_MARK
from tests.e2e.conftest import Assistant, run_in_own_loop
from tests.e2e.test_account_flows import code_emails, emailed_code
from tests.e2e.test_verified_requests import upload, verified

pytestmark = pytest.mark.e2e

CLAIRE = "claire.dupont@example.org"
IBAN = "FR76 3000 6000 0112 3456 7890 189"
IBAN_FORMS = (
    IBAN,
    IBAN.replace(" ", ""),
    IBAN.lower(),
    IBAN.replace(" ", "").lower(),
    "30006000011234567890189",
    "3000 6000 0112 3456 7890 189",
    "12345678901",
)
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
    assistant.say_text(reset_tenant, "j'ai oublié mon mot de passe")
    assert "nouveau mot de passe" in assistant.say_text(reset_tenant, CLAIRE)
    reset = assistant.wait_for_email(CLAIRE, "Choisissez un nouveau mot de passe")
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


@pytest.fixture
def new_tenant(assistant: Assistant) -> str:
    """The email of a household of its own with an active account and no direct debit."""
    number = f"{uuid.uuid4().int % 10**8:08d}"
    email = f"locataire.{number}@example.org"

    async def create() -> None:
        engine = create_engine(assistant.settings.resolved_database_url)
        try:
            async with session_factory(engine).begin() as session:
                household = _household(number, "Lefebvre", "5 rue du Test, 67000 Strasbourg")
                household.leases = [_lease(f"BAIL-{number}-1", "Appartement", "500.00")]
                household.accounts = [_account(email, AccountStatus.ACTIVE)]
                session.add(household)
        finally:
            await engine.dispose()

    run_in_own_loop(create())
    return email


def test_annuler_during_the_direct_debit_leaves_no_iban(assistant: Assistant, new_tenant: str):
    tenant = f"rest:e2e-secrets-{uuid.uuid4().hex[:8]}"
    reply = verified(assistant, tenant, new_tenant, "je voudrais le prélèvement automatique")
    assert "IBAN" in reply
    assert "***0 189" in assistant.say_text(tenant, IBAN)
    assert drafts_of(assistant, tenant) == 1

    assert "pas enregistré de demande" in assistant.say_text(tenant, "annuler")

    assert drafts_of(assistant, tenant) == 0
