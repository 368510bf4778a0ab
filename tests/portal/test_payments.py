"""Online rent payment, as the bot, the tenant's browser and the payment platform see it.

The payment platform is played by the development sandbox (``/dev/systempay``), which speaks
the Systempay form protocol; the signature itself is checked against the documented examples
in ``test_systempay.py``.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select, update

from bot.errors import InvalidInput, NotFound
from bot.policy.money import format_eur, parse_amount
from bot.portal.models import Lease, OutboxEmail, Payment, PaymentStatus, utcnow
from bot.portal.payments import systempay
from bot.portal.services.payment_rules import choose_lease
from tests.portal.support import (
    Mailbox,
    Portal,
    db_snapshot,
    hidden_fields,
    running_portal,
    verify_conversation,
    words,
)

CLAIRE = "claire.dupont@example.org"
MINH = "minh.nguyen@example.org"
DUPONT_LEASE = "BAIL-87654321-1"
NGUYEN_FLAT = "BAIL-11223344-1"
MAX = Decimal("5000.00")
#: The masked test card the sandbox puts in its notifications, as the real platform does.
TEST_CARD_NUMBER = "497010XXXXXX0055"


# --------------------------------------------------------------------------- amount rules


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("412,50", "412.50"),
        ("412.50", "412.50"),
        ("412,5 €", "412.50"),
        ("412,50€", "412.50"),
        ("412 EUR", "412.00"),
        ("45 euros", "45.00"),
        ("1 200,00", "1200.00"),
        ("1\u202f200,5", "1200.50"),
        (" +0,01 ", "0.01"),
        ("5000", "5000.00"),
        ("5 000,00 €", "5000.00"),
        (412, "412.00"),
        (412.5, "412.50"),
        (Decimal("98.1"), "98.10"),
    ],
)
def test_amounts_as_tenants_type_them(typed, amount):
    assert parse_amount(typed, maximum=MAX) == Decimal(amount)


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("", "invalid_amount"),
        ("abc", "invalid_amount"),
        ("12,5,0", "invalid_amount"),
        ("1.200,50", "invalid_amount"),
        ("4e2", "invalid_amount"),
        ("€", "invalid_amount"),
        ("NaN", "invalid_amount"),
        (None, "invalid_amount"),
        (True, "invalid_amount"),
        (["412"], "invalid_amount"),
        ("9" * 60, "invalid_amount"),
        ("0", "amount_not_positive"),
        ("0,00", "amount_not_positive"),
        ("-12,50", "amount_not_positive"),
        (-3, "amount_not_positive"),
        ("412,505", "too_many_decimals"),
        ("1,000", "too_many_decimals"),
        ("5000,01", "amount_too_high"),
        ("12000", "amount_too_high"),
        # Far more digits than any rent: too high, said as such (not "not understood").
        ("999999999999999", "amount_too_high"),
    ],
)
def test_amounts_that_are_refused(typed, code):
    with pytest.raises(InvalidInput) as refused:
        parse_amount(typed, maximum=MAX)
    assert (refused.value.code, refused.value.field) == (code, "amount")


def test_amount_formatting_is_french():
    assert format_eur(Decimal("412.5")) == "412,50\u00a0€"
    assert format_eur(Decimal("1234567.891")) == "1\u202f234\u202f567,89\u00a0€"


def test_the_lease_is_chosen_by_reference_or_is_the_only_one():
    flat = Lease(reference="BAIL-1", label="Appartement")
    parking = Lease(reference="BAIL-2", label="Parking")
    assert choose_lease([flat], "") is flat
    assert choose_lease([flat, parking], " bail-2 ") is parking
    with pytest.raises(InvalidInput, match="bail"):
        choose_lease([flat, parking], "")
    with pytest.raises(NotFound):
        choose_lease([flat, parking], "BAIL-3")


# --------------------------------------------------------------------------- helpers


async def emailed_code(mailbox: Mailbox, portal: Portal, to: str) -> str:
    await portal.deliver_now()
    email = await mailbox.wait_for(to=to, subject="code de vérification")
    return re.search(r"\b(\d{6})\b", email.text).group(1)


async def verify_by_email_code(portal: Portal, mailbox: Mailbox, email: str, conversation: str):
    started = await portal.api(
        "/api/v1/verifications", {"email": email}, conversation_id=conversation
    )
    assert started.status_code == 202
    code = await emailed_code(mailbox, portal, email)
    confirmed = await portal.api(
        "/api/v1/verifications/code", {"code": code}, conversation_id=conversation
    )
    assert confirmed.status_code == 200


async def new_payment(portal: Portal, conversation: str, **body: object) -> httpx.Response:
    return await portal.api("/api/v1/payments", body, conversation_id=conversation)


async def payment_link(portal: Portal, email: str = CLAIRE, **body: object) -> str:
    conversation = f"pay-{email}"
    await verify_conversation(portal, email, conversation)
    response = await new_payment(portal, conversation, **body)
    assert response.status_code == 201, response.text
    return response.json()["payment_url"]


def payment_form(page: str) -> tuple[str, dict[str, str]]:
    """The action and fields of the form the payment page posts, as a browser reads them."""
    action = re.search(r'<form id="paiement" method="post" action="([^"]+)"', page).group(1)
    fields = {name: html.unescape(value) for name, value in hidden_fields(page).items()}
    return html.unescape(action), fields


async def open_and_post_to_platform(portal: Portal, link: str) -> tuple[dict, httpx.Response]:
    page = await portal.open_link(link)
    assert page.status_code == 200, page.text
    action, fields = payment_form(page.text)
    return fields, await portal.client.post(action, data=fields, headers={"Accept": "text/html"})


async def decide(portal: Portal, platform_page: httpx.Response, decision: str) -> httpx.Response:
    """Click a button of the sandbox's payment page."""
    fields = {
        name: html.unescape(value) for name, value in hidden_fields(platform_page.text).items()
    }
    fields["decision"] = decision
    return await portal.client.post(
        "/dev/systempay/decision", data=fields, headers={"Accept": "text/html"}
    )


async def pay(portal: Portal, link: str, decision: str = "AUTHORISED") -> httpx.Response:
    _fields, platform_page = await open_and_post_to_platform(portal, link)
    assert platform_page.status_code == 200, platform_page.text
    return await decide(portal, platform_page, decision)


async def sent_notifications(portal: Portal) -> list[dict]:
    return (await portal.client.get("/dev/systempay/notifications")).json()


async def notify(portal: Portal, fields: dict[str, str]) -> httpx.Response:
    """POST an IPN to the portal as the platform does (form-encoded, no browser)."""
    return await portal.client.post("/paiement/notification", data=fields)


async def balance_of(portal: Portal, reference: str) -> Decimal:
    async with portal.sessions() as session:
        return await session.scalar(select(Lease.balance_due).where(Lease.reference == reference))


async def the_payment(portal: Portal) -> Payment:
    async with portal.sessions() as session:
        (payment,) = (await session.scalars(select(Payment))).all()
        return payment


async def confirmations(portal: Portal) -> list[OutboxEmail]:
    async with portal.sessions() as session:
        return list(
            await session.scalars(
                select(OutboxEmail).where(OutboxEmail.template == "payment_confirmed")
            )
        )


def signed_result(form: dict[str, str], status: str, key: str) -> dict[str, str]:
    """A notification as the platform would sign it for the posted form."""
    result = {
        **systempay.vads_fields(form),
        "vads_trans_status": status,
        "vads_result": "00",
        "vads_card_number": TEST_CARD_NUMBER,
    }
    return systempay.signed(result, key)


# --------------------------------------------------------------------------- the whole journey


async def test_a_verified_tenant_pays_the_balance_once_however_often_the_platform_notifies(
    portal, mailbox
):
    await verify_by_email_code(portal, mailbox, CLAIRE, "web-42")
    created = await new_payment(portal, "web-42", lease_reference=DUPONT_LEASE, amount="412,50")
    assert created.status_code == 201, created.text
    offer = created.json()
    assert (offer["amount"], offer["lease_label"]) == ("412.50", "Logement")
    assert offer["payment_url"].startswith(f"{portal.settings.public_base_url}/paiement/")
    expires = datetime.fromisoformat(offer["expires_at"])
    assert timedelta(minutes=25) < expires - datetime.now(timezone.utc) <= timedelta(minutes=30)

    # The link opens a page that posts a signed form to the platform.
    page = await portal.open_link(offer["payment_url"])
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "412,50\u00a0€" in page.text and "Logement" in page.text
    action, form = payment_form(page.text)
    assert action == portal.settings.payment_platform_url
    assert systempay.verify(form, portal.settings.systempay_key)
    assert {name: form[name] for name in ("vads_amount", "vads_currency", "vads_ctx_mode")} == {
        "vads_amount": "41250",
        "vads_currency": "978",
        "vads_ctx_mode": "TEST",
    }
    assert (form["vads_site_id"], form["vads_version"], form["vads_page_action"]) == (
        "12345678",
        "V2",
        "PAYMENT",
    )
    assert re.fullmatch(r"\d{6}", form["vads_trans_id"])
    sent_at = datetime.strptime(form["vads_trans_date"], "%Y%m%d%H%M%S").replace(
        tzinfo=timezone.utc
    )
    assert abs(sent_at - datetime.now(timezone.utc)) < timedelta(minutes=1)
    assert form["vads_url_check"] == f"{portal.settings.public_base_url}/paiement/notification"

    # The platform shows the amount; the tester accepts; the IPN reaches the portal.
    platform = await portal.client.post(action, data=form, headers={"Accept": "text/html"})
    assert platform.status_code == 200
    assert "412,50\u00a0€" in platform.text and "Accepter" in platform.text
    back = await decide(portal, platform, "AUTHORISED")
    assert back.status_code == 303
    assert back.headers["location"].startswith(
        f"{portal.settings.public_base_url}/paiement/retour?"
    )
    (ipn,) = await sent_notifications(portal)
    assert ipn["status_code"] == 200
    assert await balance_of(portal, DUPONT_LEASE) == Decimal("0.00")

    # The platform notifies again (retry) and once more through the sandbox: nothing changes.
    again = await notify(portal, ipn["fields"])
    assert (again.status_code, again.json()["changed"]) == (200, False)
    replayed = await portal.client.post("/dev/systempay/notifications/replay")
    assert replayed.json()["status_code"] == 200
    assert await balance_of(portal, DUPONT_LEASE) == Decimal("0.00")
    profile = await portal.client.get("/api/v1/me", headers=portal.headers("web-42"))
    assert profile.json()["total_due"] == "0.00"

    # The tenant comes back to a page that says so.
    result = await portal.client.get(back.headers["location"], headers={"Accept": "text/html"})
    assert result.status_code == 200 and "Paiement accepté" in result.text

    # One confirmation email, whatever the number of notifications.
    email = await mailbox.wait_for(to=CLAIRE, subject="Confirmation de votre paiement")
    assert "412,50 €" in words(email.text) and "Votre loyer est à jour" in words(email.text)
    snapshot = await portal.snapshot()
    assert len(await confirmations(portal)) == 1
    assert len(mailbox.emails(CLAIRE)) == 2  # the verification code, the confirmation
    payment = await the_payment(portal)
    assert (payment.status, payment.notification_count) == (PaymentStatus.ACCEPTED, 3)
    assert payment.paid_at is not None and payment.platform_status == "AUTHORISED"
    # The card number the platform sends (masked) is kept nowhere.
    assert TEST_CARD_NUMBER not in repr(snapshot)


@pytest.mark.parametrize(
    ("decision", "status", "wording"),
    [
        ("REFUSED", PaymentStatus.REFUSED, "Paiement refusé"),
        # Its notification carries an empty vads_auth_result: blank fields are signed too.
        ("ABANDONED", PaymentStatus.CANCELLED, "Paiement abandonné"),
    ],
)
async def test_a_refused_or_abandoned_payment_changes_nothing_but_its_status(
    portal, decision, status, wording
):
    link = await payment_link(portal, lease_reference=DUPONT_LEASE, amount="100")
    back = await pay(portal, link, decision)
    assert back.status_code == 303
    result = await portal.client.get(back.headers["location"], headers={"Accept": "text/html"})
    assert wording in result.text and "Aucun montant n'a été débité" in words(result.text)
    assert await balance_of(portal, DUPONT_LEASE) == Decimal("412.50")
    assert (await the_payment(portal)).status == status
    assert await confirmations(portal) == []


async def test_an_authorisation_after_a_refusal_still_counts(portal):
    link = await payment_link(portal, amount="12")
    await pay(portal, link, "REFUSED")
    (refusal,) = await sent_notifications(portal)
    accepted = systempay.signed(
        {**refusal["fields"], "vads_trans_status": "AUTHORISED", "vads_result": "00"},
        portal.settings.systempay_key,
    )
    assert (await notify(portal, accepted)).json() == {
        "reference": (await the_payment(portal)).reference,
        "status": "accepted",
        "changed": True,
    }
    assert await balance_of(portal, DUPONT_LEASE) == Decimal("400.50")
    # ...and a late refusal never undoes an acceptance.
    assert (await notify(portal, refusal["fields"])).json()["status"] == "accepted"


async def test_paying_more_than_the_balance_leaves_a_credit_the_email_mentions(portal, mailbox):
    link = await payment_link(portal, amount="500")
    await pay(portal, link)
    assert await balance_of(portal, DUPONT_LEASE) == Decimal("-87.50")
    await portal.deliver_now()
    email = await mailbox.wait_for(to=CLAIRE, subject="Confirmation de votre paiement")
    assert "crédit de 87,50 €" in words(email.text)


async def test_the_balance_is_the_default_amount(portal):
    await verify_conversation(portal, CLAIRE, "c-default")
    offer = (await new_payment(portal, "c-default")).json()
    assert (offer["amount"], offer["lease_reference"]) == ("412.50", DUPONT_LEASE)


# --------------------------------------------------------------------------- notifications


async def opened_payment_form(portal: Portal) -> dict[str, str]:
    link = await payment_link(portal, amount="412.50")
    page = await portal.open_link(link)
    return payment_form(page.text)[1]


@pytest.mark.parametrize(
    "tamper",
    ["amount", "status", "wrong key", "no signature", "another shop"],
)
async def test_an_invalid_notification_is_refused_logged_and_changes_nothing(
    portal, caplog, tamper
):
    form = await opened_payment_form(portal)
    key = portal.settings.systempay_key
    ipn = signed_result(form, "AUTHORISED", key)
    forged = {
        "amount": {**ipn, "vads_amount": "1"},
        "status": {**signed_result(form, "REFUSED", key), "vads_trans_status": "AUTHORISED"},
        "wrong key": signed_result(form, "AUTHORISED", "not-the-shop-key"),
        "no signature": {k: v for k, v in ipn.items() if k != "signature"},
        "another shop": {**ipn, "vads_site_id": "99999999"},
    }[tamper]
    before = await db_snapshot(portal.sessions)
    with caplog.at_level(logging.WARNING):
        response = await notify(portal, forged)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_signature")
    assert await db_snapshot(portal.sessions) == before
    (warning,) = [r for r in caplog.records if "invalid signature" in r.getMessage()]
    assert form["vads_trans_id"] in warning.getMessage()
    assert TEST_CARD_NUMBER not in caplog.text

    # The genuine notification still works afterwards.
    assert (await notify(portal, ipn)).json()["status"] == "accepted"


async def test_a_signed_notification_that_does_not_match_the_payment_changes_nothing(
    portal, caplog
):
    form = await opened_payment_form(portal)
    key = portal.settings.systempay_key
    before = await db_snapshot(portal.sessions)
    cheaper = signed_result({**form, "vads_amount": "100"}, "AUTHORISED", key)
    unknown = signed_result({**form, "vads_order_id": "LOY-0000000000"}, "AUTHORISED", key)
    assert (await notify(portal, cheaper)).status_code == 409
    assert (await notify(portal, unknown)).status_code == 404
    assert await db_snapshot(portal.sessions) == before
    assert "does not match" in caplog.text


async def test_concurrent_notifications_count_the_payment_once(portal):
    form = await opened_payment_form(portal)
    ipn = signed_result(form, "AUTHORISED", portal.settings.systempay_key)
    responses = await asyncio.gather(*(notify(portal, ipn) for _ in range(6)))
    assert [r.status_code for r in responses] == [200] * 6
    assert sum(r.json()["changed"] for r in responses) == 1
    assert await balance_of(portal, DUPONT_LEASE) == Decimal("0.00")
    assert len(await confirmations(portal)) == 1
    assert (await the_payment(portal)).notification_count == 6


# --------------------------------------------------------------------------- the link


async def test_the_payment_link_works_once(portal):
    link = await payment_link(portal)
    assert (await portal.open_link(link)).status_code == 200
    again = await portal.open_link(link)
    assert again.status_code == 410 and "déjà été utilisé" in again.text


async def test_an_expired_payment_link_is_refused(portal):
    link = await payment_link(portal)
    async with portal.sessions.begin() as session:
        await session.execute(update(Payment).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = await portal.open_link(link)
    assert response.status_code == 410 and "a expiré" in response.text
    assert (await the_payment(portal)).status == PaymentStatus.EXPIRED


async def test_an_unknown_or_replaced_link_is_refused(portal):
    first = await payment_link(portal, amount="10")
    second = await payment_link(portal, amount="20")
    unknown = await portal.open_link(f"{portal.settings.public_base_url}/paiement/nope")
    assert unknown.status_code == 410
    replaced = await portal.open_link(first)
    assert replaced.status_code == 410 and "plus récent" in replaced.text
    assert (await portal.open_link(second)).status_code == 200


async def test_a_form_altered_in_the_browser_is_refused_by_the_platform(portal):
    link = await payment_link(portal)
    page = await portal.open_link(link)
    action, form = payment_form(page.text)
    cheaper = {**form, "vads_amount": "100"}
    refused = await portal.client.post(action, data=cheaper, headers={"Accept": "text/html"})
    assert refused.status_code == 400 and "signature invalide" in refused.text
    platform = await portal.client.post(action, data=form, headers={"Accept": "text/html"})
    decision = {**hidden_fields(platform.text), "vads_amount": "100", "decision": "AUTHORISED"}
    assert (await portal.client.post("/dev/systempay/decision", data=decision)).status_code == 400
    assert await sent_notifications(portal) == []
    assert await balance_of(portal, DUPONT_LEASE) == Decimal("412.50")


async def test_the_return_page_without_a_valid_signature_shows_nothing(portal):
    page = await portal.client.get(
        "/paiement/retour?vads_order_id=LOY-1&vads_trans_status=AUTHORISED&signature=x",
        headers={"Accept": "text/html"},
    )
    assert page.status_code == 200
    assert "Nous n'avons pas pu lire le résultat" in words(page.text)


# --------------------------------------------------------------------------- the API


async def test_an_unverified_conversation_gets_no_link(portal):
    response = await new_payment(portal, "nobody", lease_reference=DUPONT_LEASE, amount="10")
    assert (response.status_code, response.json()["error"]) == (401, "not_verified")
    no_token = await portal.client.post("/api/v1/payments", json={"amount": "10"})
    assert no_token.status_code == 401
    async with portal.sessions() as session:
        assert (await session.scalars(select(Payment))).all() == []


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"lease_reference": "BAIL-00000000-1", "amount": "10"}, 404, "lease_not_found"),
        ({"lease_reference": NGUYEN_FLAT, "amount": "10"}, 404, "lease_not_found"),
        ({"amount": "abc"}, 400, "invalid_amount"),
        ({"amount": "0"}, 400, "amount_not_positive"),
        ({"amount": "12,345"}, 400, "too_many_decimals"),
        ({"amount": "5000,01"}, 400, "amount_too_high"),
        ({"amount": True}, 400, "invalid_amount"),
        ({"lease_reference": 12}, 400, "wrong_type"),
    ],
)
async def test_payment_requests_that_are_refused(portal, body, status, code):
    await verify_conversation(portal, CLAIRE, "c-bad")
    response = await new_payment(portal, "c-bad", **body)
    assert (response.status_code, response.json()["error"]) == (status, code)


async def test_a_household_with_two_leases_must_choose_and_one_without_debt_give_an_amount(portal):
    await verify_conversation(portal, MINH, "c-minh")
    assert (await new_payment(portal, "c-minh")).json()["error"] == "lease_required"
    no_debt = await new_payment(portal, "c-minh", lease_reference=NGUYEN_FLAT)
    assert no_debt.json()["error"] == "amount_required"
    chosen = await new_payment(portal, "c-minh", lease_reference=NGUYEN_FLAT.lower(), amount=45)
    assert chosen.status_code == 201
    assert (chosen.json()["lease_label"], chosen.json()["amount"]) == ("Appartement", "45.00")


async def test_production_settings_have_no_sandbox(portal_settings, sessions, portal_socket):
    production = portal_settings.with_overrides(
        env="production", systempay_url="https://paiement.systempay.fr/vads-payment/"
    )
    async with running_portal(production, portal_socket, sessions) as portal:
        response = await portal.client.post("/dev/systempay", data={"vads_amount": "1"})
        assert response.status_code == 404
        await verify_conversation(portal, CLAIRE, "c-prod")
        link = (await new_payment(portal, "c-prod")).json()["payment_url"]
        action, _form = payment_form((await portal.open_link(link)).text)
        assert action == "https://paiement.systempay.fr/vads-payment/"
    assert urlsplit(link).path.startswith("/paiement/")
