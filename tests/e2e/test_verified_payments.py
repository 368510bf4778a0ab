"""End-to-end: paying rent from a verified chat, through the Systempay sandbox and its IPN.

The tenant chats over the REST channel, opens the payment link, the dev sandbox (the portal's
stand-in for the payment platform) posts the signed verdict to the portal's notification URL,
and the tenant sees the result in the chat balance, on the return page and in the dev mailbox.

Accounts: minh.nguyen@example.org (two leases, nothing due) is the one whose payments are
accepted; claire.dupont@example.org only ever has a payment refused, because other tests expect
her 412,50 € due. Every conversation is new, so the per-conversation rate limit is never near.
"""

from __future__ import annotations

import re
import sqlite3
import time

import pytest

from bot.portal.api.sandbox import result_fields
from bot.portal.payments import systempay
from tests.e2e.conftest import Assistant, form_fields
from tests.e2e.test_account_flows import code_emails, emailed_code, sender

pytestmark = pytest.mark.e2e

MINH, CLAIRE = "minh.nguyen@example.org", "claire.dupont@example.org"
APARTMENT, PARKING = "BAIL-11223344-1", "BAIL-11223344-2"
CONFIRMATION = "Confirmation de votre paiement"
NOTIFICATION_PATH = "/paiement/notification"
HTML = {"Accept": "text/html"}


def plain(text: str) -> str:
    """The chat's French number spacing (narrow and non-breaking spaces) as plain spaces."""
    return re.sub(r"[\u00a0\u202f]", " ", text)


def verify(assistant: Assistant, tenant: str, email: str, topic_message: str) -> str:
    """Ask for ``topic_message``, verify the conversation by the emailed code; the replies."""
    seen = len(code_emails(assistant, email))
    assert "vérifier" in assistant.say_text(tenant, topic_message)
    assert "code à 6 chiffres" in assistant.say_text(tenant, email)
    reply = plain(assistant.say_text(tenant, emailed_code(assistant, email, seen=seen)))
    assert "vérifié" in reply
    return reply


def balance_lines(reply: str) -> list[str]:
    """The per-lease lines of a balance answer."""
    return [line for line in plain(reply).splitlines() if re.match(r"\w+ : ", line)]


def payment_link(reply: str) -> str:
    (link,) = re.findall(r"https?://\S+/paiement/\S+", reply)
    return link


def ask_payment_link(assistant: Assistant, tenant: str, lease: str, amount: str) -> str:
    """In a verified conversation of a two-lease household: pay ``amount`` on ``lease``."""
    asked = assistant.say(tenant, "je veux payer mon loyer")
    payloads = [b["payload"] for reply in asked for b in reply.get("buttons", [])]
    assert lease in payloads, asked
    return choose_lease_and_pay(assistant, tenant, lease, amount)


def choose_lease_and_pay(assistant: Assistant, tenant: str, lease: str, amount: str) -> str:
    assert "Quel montant" in assistant.say_text(tenant, lease)
    assert f"payer {amount}" in plain(assistant.say_text(tenant, amount))
    reply = assistant.say_text(tenant, "oui")
    assert amount in plain(reply)
    return payment_link(reply)


def open_link(assistant: Assistant, link: str) -> tuple[str, dict[str, str]]:
    """The payment page: where its signed form goes, and the form's fields."""
    page = assistant.http.get(link, headers=HTML)
    assert page.status_code == 200, page.text
    (action,) = re.findall(r'<form id="paiement" method="post" action="([^"]+)"', page.text)
    return action, form_fields(page.text)


def sandbox_choice(page: str, decision: str) -> dict[str, str]:
    """The fields of the sandbox form whose button the tester clicks (one form per verdict)."""
    (chosen,) = [
        form for form in page.split("<form")[1:] if f'name="decision" value="{decision}"' in form
    ]
    return form_fields(chosen)


def pay_in_sandbox(assistant: Assistant, link: str, decision: str) -> tuple[str, str]:
    """Open the link, follow the signed form to the sandbox, decide.

    Returns the payment's reference (our order number) and the return page's HTML.
    """
    action, fields = open_link(assistant, link)
    sandbox = assistant.http.post(action, data=fields, headers=HTML)
    assert sandbox.status_code == 200, sandbox.text
    assert "Paiement de" in sandbox.text
    decided = assistant.http.post(
        f"{action}/decision", data=sandbox_choice(sandbox.text, decision), headers=HTML
    )
    assert decided.status_code == 303, decided.text
    back = assistant.http.get(decided.headers["location"], headers=HTML)
    assert back.status_code == 200
    return fields["vads_order_id"], back.text


def notifications(assistant: Assistant) -> list[dict]:
    response = assistant.http.get(f"{assistant.portal}/dev/systempay/notifications")
    response.raise_for_status()
    return response.json()


def database(assistant: Assistant) -> sqlite3.Connection:
    return sqlite3.connect(assistant.settings.var_dir / "portal.db")


def payment_row(assistant: Assistant, reference: str) -> tuple[str, int]:
    with database(assistant) as connection:
        return connection.execute(
            "SELECT status, notification_count FROM payments WHERE reference = ?", (reference,)
        ).fetchone()


def settled_mailbox(assistant: Assistant, email: str, timeout: float = 30) -> list[dict]:
    """The mailbox once every email queued for ``email`` has been delivered (or given up)."""
    deadline = time.monotonic() + timeout
    while True:
        with database(assistant) as connection:
            (waiting,) = connection.execute(
                "SELECT COUNT(*) FROM outbox_emails"
                " WHERE to_address = ? AND sent_at IS NULL AND failed_at IS NULL",
                (email,),
            ).fetchone()
        if not waiting:
            break
        assert time.monotonic() < deadline, f"emails to {email} still queued"
        time.sleep(0.2)
    # The SMTP sink writes each message to its Maildir before accepting it: all are there now.
    return assistant.mailbox(email)


def confirmations(mailbox: list[dict], reference: str) -> list[dict]:
    return [m for m in mailbox if CONFIRMATION in m["subject"] and reference in m["text"]]


def test_accepted_payment_notified_twice_counts_once(assistant: Assistant):
    tenant = sender()
    confirmed_before = len(assistant.emails(MINH, CONFIRMATION))
    verify(assistant, tenant, MINH, "je veux payer mon loyer")
    link = choose_lease_and_pay(assistant, tenant, PARKING, "10,00")

    reference, result = pay_in_sandbox(assistant, link, "AUTHORISED")
    assert "Paiement accepté" in result and reference in result
    first = assistant.wait_for_email(MINH, CONFIRMATION, seen=confirmed_before)
    assert reference in first["text"] and "10,00" in plain(first["text"])

    # The platform sends the same notification again (its automatic retry).
    replayed = assistant.http.post(f"{assistant.portal}/dev/systempay/notifications/replay")
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["url"].endswith(NOTIFICATION_PATH)
    assert replayed.json()["status_code"] == 200
    sent = [n for n in notifications(assistant) if n["fields"]["vads_order_id"] == reference]
    assert [n["status_code"] for n in sent] == [200, 200]
    assert sent[0]["fields"] == sent[1]["fields"]
    assert payment_row(assistant, reference) == ("accepted", 2)

    balance = plain(assistant.say_text(tenant, "combien je dois ?"))
    assert "Parking : vous avez un crédit de 10,00 €" in balance
    assert "Appartement : vous êtes à jour" in balance
    assert len(confirmations(settled_mailbox(assistant, MINH), reference)) == 1


def test_refused_payment_changes_nothing(assistant: Assistant):
    tenant = sender()
    reply = verify(assistant, tenant, CLAIRE, "je veux payer mon loyer")
    assert "412,50" in reply
    assert "payer 412,50 €" in plain(assistant.say_text(tenant, "412,50"))
    link = payment_link(assistant.say_text(tenant, "oui"))

    reference, result = pay_in_sandbox(assistant, link, "REFUSED")
    assert "Paiement refusé" in result and "refusé par la" in result
    assert "Aucun montant n'a été débité" in result
    assert payment_row(assistant, reference) == ("refused", 1)

    balance = plain(assistant.say_text(tenant, "combien je dois ?"))
    assert "Logement : 412,50 € restent à payer" in balance
    assert not [m for m in settled_mailbox(assistant, CLAIRE) if CONFIRMATION in m["subject"]]


def test_five_wrong_codes_end_the_verification(assistant: Assistant):
    tenant = sender()
    seen = len(code_emails(assistant, MINH))
    assert "vérifier" in assistant.say_text(tenant, "combien je dois ?")
    assert "code à 6 chiffres" in assistant.say_text(tenant, MINH)
    code = emailed_code(assistant, MINH, seen=seen)
    wrong = "000000" if code != "000000" else "111111"

    for left in (4, 3, 2, 1):
        reply = assistant.say_text(tenant, wrong)
        assert f"Il vous reste {left} essai(s)" in reply
    fifth = assistant.say_text(tenant, wrong)
    assert "Trop de codes erronés" in fifth and "vérification est annulée" in fifth
    assert "essai(s)" not in fifth and "vérifié" not in fifth

    late = plain(assistant.say_text(tenant, code))
    assert "vérifié" not in late
    for shown in ("restent à payer", "vous êtes à jour", "crédit de", "Appartement", "Parking"):
        assert shown not in late
    # Still not verified: the balance is refused and a new verification is asked for.
    again = plain(assistant.say_text(tenant, "combien je dois ?"))
    assert "vérifier" in again and "Appartement" not in again
    with database(assistant) as connection:
        grants = connection.execute(
            "SELECT COUNT(*) FROM conversation_grants WHERE conversation_id = ?", (tenant,)
        ).fetchone()
    assert grants == (0,)


def test_notification_with_an_invalid_signature_changes_nothing(assistant: Assistant):
    tenant = sender()
    before = balance_lines(verify(assistant, tenant, MINH, "combien je dois ?"))
    assert [line.split(" : ")[0] for line in before] == ["Appartement", "Parking"]
    link = ask_payment_link(assistant, tenant, APARTMENT, "10,00")
    _action, form = open_link(assistant, link)
    reference = form["vads_order_id"]
    assert payment_row(assistant, reference) == ("pending", 0)
    key = assistant.settings.systempay_key
    url = form["vads_url_check"]
    assert url == assistant.portal + NOTIFICATION_PATH

    accepted, _ = result_fields(form, "AUTHORISED", key)
    refused, _ = result_fields(form, "REFUSED", key)
    forgeries = {
        "other key": result_fields(form, "AUTHORISED", "not-the-shop-key")[0],
        "refusal turned into an acceptance": {
            **refused,
            "vads_trans_status": "AUTHORISED",
            "vads_result": "00",
            "vads_auth_result": "00",
        },
        "no signature": {k: v for k, v in accepted.items() if k != "signature"},
        "empty signature": {**accepted, "signature": ""},
        "signature in another case": {**accepted, "signature": accepted["signature"].lower()},
    }
    for name, fields in forgeries.items():
        assert not systempay.verify(fields, key), name
        response = assistant.http.post(url, data=fields)
        assert response.status_code == 400, (name, response.text)
        assert response.json()["error"] == "invalid_signature", name

    assert payment_row(assistant, reference) == ("pending", 0)
    assert balance_lines(assistant.say_text(tenant, "combien je dois ?")) == before
    assert not confirmations(settled_mailbox(assistant, MINH), reference)
    # Control: the same URL takes the platform's genuine verdict on this payment (abandoned,
    # so nothing is debited and the other tests' balances stay as they are).
    abandoned, _ = result_fields(form, "ABANDONED", key)
    genuine = assistant.http.post(url, data=abandoned)
    assert genuine.status_code == 200, genuine.text
    assert genuine.json() == {"reference": reference, "status": "cancelled", "changed": True}
    assert payment_row(assistant, reference) == ("cancelled", 1)
