"""The Systempay form protocol, checked against the platform's documented examples.

Documented vectors (shop id 12345678, TEST key ``1122334455667788``):

- HMAC-SHA-256: Systempay, "Computing the signature" (hosted payment form, quick start guide),
  https://paiement.systempay.fr/doc/en-EN/form-payment/quick-start-guide/computing-the-signature.html
  - the form of vads_amount 5124, vads_trans_date 20170129130025, vads_trans_id 123456 is signed
  ``ycA5Do5tNvsnKdc/eP1bj2xa19z9q3iWPy9/rpesfS0=``. The same example is chapter 13 of the
  PayZen (same Lyra platform) Hosted Payment Page guide v3.39.
- The signed string itself, whose SHA-1 (the deprecated algorithm) the documentation gives for
  vads_amount 1524, vads_trans_date 20090501193530, vads_trans_id 654321:
  ``606b369759fac4f0864144c803c73676cbe470ff``; PayZen, "Computing the signature",
  https://payzen.io/en-EN/form-payment/payment-method/sepa-recurring/computing-the-signature.html
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from bot.portal.payments import systempay
from bot.settings import DEV_SYSTEMPAY_KEY, Settings

DOC_KEY = "1122334455667788"
DOC_FIELDS = {
    "vads_action_mode": "INTERACTIVE",
    "vads_amount": "5124",
    "vads_ctx_mode": "TEST",
    "vads_currency": "978",
    "vads_page_action": "PAYMENT",
    "vads_payment_config": "SINGLE",
    "vads_site_id": "12345678",
    "vads_trans_date": "20170129130025",
    "vads_trans_id": "123456",
    "vads_version": "V2",
}
DOC_SIGNATURE = "ycA5Do5tNvsnKdc/eP1bj2xa19z9q3iWPy9/rpesfS0="

SHA1_DOC_FIELDS = {
    **DOC_FIELDS,
    "vads_amount": "1524",
    "vads_trans_date": "20090501193530",
    "vads_trans_id": "654321",
}
SHA1_DOC_STRING = (
    "INTERACTIVE+1524+TEST+978+PAYMENT+SINGLE+12345678+20090501193530+654321+V2+1122334455667788"
)
SHA1_DOC_SIGNATURE = "606b369759fac4f0864144c803c73676cbe470ff"


def test_the_documented_hmac_sha256_example_is_reproduced():
    assert systempay.sign(DOC_FIELDS, DOC_KEY) == DOC_SIGNATURE
    assert systempay.verify({**DOC_FIELDS, "signature": DOC_SIGNATURE}, DOC_KEY)


def test_the_signed_string_is_the_documented_one():
    assert systempay.signing_string(SHA1_DOC_FIELDS, DOC_KEY) == SHA1_DOC_STRING
    digest = hashlib.sha1(SHA1_DOC_STRING.encode()).hexdigest()  # noqa: S324 - documented vector
    assert digest == SHA1_DOC_SIGNATURE


def test_fields_are_sorted_by_name_and_non_vads_fields_are_ignored():
    shuffled = dict(reversed(list(DOC_FIELDS.items())))
    extras = {**shuffled, "signature": "whatever", "pay": "Payer", "decision": "AUTHORISED"}
    assert systempay.sign(extras, DOC_KEY) == DOC_SIGNATURE


def test_values_are_signed_as_utf8_and_empty_values_count():
    accented = systempay.sign({**DOC_FIELDS, "vads_cust_last_name": "Ménard"}, DOC_KEY)
    plain = systempay.sign({**DOC_FIELDS, "vads_cust_last_name": "Menard"}, DOC_KEY)
    assert accented != plain
    # An empty field still adds a "+" to the signed string (documented: all vads_ fields).
    assert systempay.sign({**DOC_FIELDS, "vads_url_cancel": ""}, DOC_KEY) != DOC_SIGNATURE


@pytest.mark.parametrize(
    "change",
    [
        {"vads_amount": "1"},
        {"vads_trans_status": "AUTHORISED"},
        {"vads_site_id": "87654321"},
        {"signature": DOC_SIGNATURE[:-2] + "A="},
        {"signature": ""},
        {"signature": "é" * 44},
    ],
    ids=["amount", "added field", "shop", "altered signature", "empty", "non-ascii"],
)
def test_any_change_breaks_the_signature(change):
    fields = {**DOC_FIELDS, "signature": DOC_SIGNATURE, **change}
    assert not systempay.verify(fields, DOC_KEY)


def test_another_key_or_no_vads_field_does_not_verify():
    assert not systempay.verify({**DOC_FIELDS, "signature": DOC_SIGNATURE}, "6655443322110099")
    assert not systempay.verify({"signature": systempay.sign({}, DOC_KEY)}, DOC_KEY)


@pytest.mark.parametrize(
    ("amount", "cents"),
    [("412.50", "41250"), ("0.01", "1"), ("5000", "500000"), ("45.5", "4550")],
)
def test_amounts_go_in_cents(amount, cents):
    assert systempay.amount_in_cents(Decimal(amount)) == cents
    assert systempay.euros(cents) == Decimal(amount).quantize(Decimal("0.01"))


@pytest.mark.parametrize("amount", ["0", "-1", "1.005"])
def test_amounts_that_cannot_be_sent_are_refused(amount):
    with pytest.raises(ValueError):
        systempay.amount_in_cents(Decimal(amount))


def test_transaction_date_is_utc_and_transaction_id_six_digits_below_the_reserved_range():
    paris_evening = datetime(2017, 1, 29, 14, 0, 25, tzinfo=timezone(timedelta(hours=1)))
    assert systempay.trans_date(paris_evening) == "20170129130025"
    assert systempay.trans_id(1) == "000001"
    assert systempay.trans_id(899_999) == "899999"
    assert systempay.trans_id(900_000) == "000000"


def test_the_payment_form_has_the_documented_fields_and_verifies():
    shop = systempay.Shop(site_id="12345678", key=DOC_KEY, mode="TEST")
    fields = systempay.payment_form(
        shop=shop,
        amount=Decimal("412.50"),
        transaction_id="000042",
        transaction_date="20250105083000",
        order_id="LOY-ABCDEF0123",
        notification_url="https://portail.example.org/paiement/notification",
        return_url="https://portail.example.org/paiement/retour",
    )
    assert {name: fields[name] for name in DOC_FIELDS} == {
        **DOC_FIELDS,
        "vads_amount": "41250",
        "vads_trans_date": "20250105083000",
        "vads_trans_id": "000042",
    }
    assert fields["vads_url_check"] == "https://portail.example.org/paiement/notification"
    assert fields["vads_order_id"] == "LOY-ABCDEF0123"
    assert systempay.verify(fields, DOC_KEY)
    assert not any("card" in name for name in fields)


# --------------------------------------------------------------------------- settings


def _production_env(monkeypatch: pytest.MonkeyPatch, **extra: str) -> None:
    for name, value in {
        "ASSISTANT_ENV": "production",
        "PORTAL_SERVICE_TOKEN": "a-real-service-token",
        "PORTAL_SECRET_KEY": "a-real-secret-key",
        "RASA_API_TOKEN": "a-real-rasa-token",
        "CREDITOR_IDENTIFIER": "FR12ZZZ123456",
        "ACTION_SERVER_TOKEN": "a-real-actions-token",
        "DATA_ENCRYPTION_KEY": "cmVhbC1kYXRhLWtleS1mb3ItdGhlLXRlc3RzLW9ubHk=",
        "PORTAL_PUBLIC_URL": "https://portail.example.org",
        "SMTP_HOST": "relay.example.org",
        **extra,
    }.items():
        monkeypatch.setenv(name, value)


def test_production_refuses_the_development_rasa_api_token(monkeypatch):
    _production_env(monkeypatch)
    monkeypatch.delenv("RASA_API_TOKEN")
    with pytest.raises(RuntimeError, match="RASA_API_TOKEN"):
        Settings.from_env()


def test_development_defaults_point_at_the_sandbox(monkeypatch):
    for name in ("ASSISTANT_ENV", "SYSTEMPAY_URL", "SYSTEMPAY_KEY", "SYSTEMPAY_MODE"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings.from_env()
    assert settings.systempay_mode == "TEST"
    assert settings.payment_platform_url == f"{settings.public_base_url}/dev/systempay"


def test_production_refuses_the_development_key_and_the_sandbox(monkeypatch):
    _production_env(monkeypatch, SYSTEMPAY_URL="https://paiement.systempay.fr/vads-payment/")
    monkeypatch.delenv("SYSTEMPAY_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SYSTEMPAY_KEY"):
        Settings.from_env()
    monkeypatch.setenv("SYSTEMPAY_KEY", "a-real-shop-key")
    monkeypatch.delenv("SYSTEMPAY_URL")
    with pytest.raises(RuntimeError, match="SYSTEMPAY_URL"):
        Settings.from_env()


def test_production_settings_from_the_environment(monkeypatch):
    _production_env(
        monkeypatch,
        SYSTEMPAY_KEY="a-real-shop-key",
        SYSTEMPAY_URL="https://paiement.systempay.fr/vads-payment/",
        SYSTEMPAY_SITE_ID="87654321",
        SYSTEMPAY_MODE="production",
    )
    settings = Settings.from_env()
    assert settings.systempay_key == "a-real-shop-key" != DEV_SYSTEMPAY_KEY
    assert (settings.systempay_site_id, settings.systempay_mode) == ("87654321", "PRODUCTION")
    assert settings.payment_platform_url == "https://paiement.systempay.fr/vads-payment/"


def test_an_unknown_mode_is_refused(monkeypatch):
    monkeypatch.setenv("SYSTEMPAY_MODE", "LIVE")
    with pytest.raises(RuntimeError, match="SYSTEMPAY_MODE"):
        Settings.from_env()
