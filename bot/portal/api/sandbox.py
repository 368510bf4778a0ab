"""Development-only stand-in for the payment platform, speaking Systempay's form protocol.

Registered only with development settings, where it is the default ``systempay_url``:

1. ``POST /dev/systempay``: the tenant's browser posts the portal's signed form here. Like the
   platform, the sandbox refuses a form whose signature or mandatory fields are wrong; otherwise
   it shows the amount and lets the tester accept, refuse or abandon the payment.
2. ``POST /dev/systempay/decision``: the chosen verdict. The sandbox signs the result fields
   with the shop key, posts them server to server to ``vads_url_check`` (the IPN), then sends
   the browser back to ``vads_url_return`` with the signed result in the query
   (``vads_return_mode=GET``).
3. ``GET /dev/systempay/notifications``: the notifications sent, newest first, as JSON; and
   ``POST /dev/systempay/notifications/replay`` sends the newest one again, as the platform's
   automatic retries do.

It never asks for a card; the masked card number in its notifications is a fixed test value.
"""

from __future__ import annotations

import collections
import logging
import re
import uuid
from urllib.parse import urlencode

import httpx
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, html, json, redirect

from bot.errors import message_text
from bot.policy.money import format_eur
from bot.portal.api.payment_api import platform_fields
from bot.portal.payments import systempay
from bot.portal.services.payments import NOTIFICATION_PATH
from bot.portal.templating import render
from bot.settings import Settings
from bot.web.headers import SECRET_LINK_PAGE

log = logging.getLogger(__name__)

bp = Blueprint("systempay_sandbox")

PREFIX = "/dev/systempay"
#: The tester's choices (``payments/sandbox.html`` words them).
DECISIONS = ("AUTHORISED", "REFUSED", "ABANDONED")
#: ``vads_result`` and ``vads_auth_result`` the platform returns with each verdict.
RESULT_CODES = {"AUTHORISED": ("00", "00"), "REFUSED": ("05", "05"), "ABANDONED": ("17", "")}
REQUIRED = (
    "vads_action_mode",
    "vads_amount",
    "vads_ctx_mode",
    "vads_currency",
    "vads_page_action",
    "vads_payment_config",
    "vads_site_id",
    "vads_trans_date",
    "vads_trans_id",
    "vads_version",
)
#: Input-only fields the platform does not send back.
_NOT_ECHOED = ("vads_url_", "vads_return_mode", "vads_redirect_")
#: Test card data (masked, as the platform sends it): only ever in the server-to-server IPN.
TEST_CARD = {
    "vads_card_brand": "CB",
    "vads_card_number": "497010XXXXXX0055",
    "vads_expiry_month": "6",
    "vads_expiry_year": "2030",
}
NOTIFICATION_TIMEOUT = 10.0


def form_problem(fields: dict[str, str], settings: Settings) -> tuple[str, str]:
    """Why the platform would reject this form, and the field missing if that is why;
    ``("", "")`` when it would not. ``payments/sandbox_refused.html`` words the reason."""
    missing = [name for name in REQUIRED if not fields.get(name)]
    if missing:
        return "missing_field", missing[0]
    if not systempay.verify(fields, settings.systempay_key):
        log.warning(
            "sandbox: payment form with an invalid signature (trans_id=%s)",
            re.sub(r"\W", "?", fields["vads_trans_id"][:10]),
        )
        return "bad_signature", ""
    checks = (
        (fields["vads_site_id"] == settings.systempay_site_id, "unknown_shop"),
        (fields["vads_ctx_mode"] == settings.systempay_mode, "unexpected_mode"),
        (fields["vads_version"] == systempay.VERSION, "unknown_version"),
        (fields["vads_currency"] == systempay.CURRENCY_EUR, "currency_refused"),
        (fields["vads_page_action"] == "PAYMENT", "unknown_action"),
        (fields["vads_payment_config"] == "SINGLE", "single_payment_only"),
        (fields["vads_amount"].isdigit() and int(fields["vads_amount"]) > 0, "bad_amount"),
        (re.fullmatch(r"\d{6}", fields["vads_trans_id"]) is not None, "bad_trans_id"),
        (re.fullmatch(r"\d{14}", fields["vads_trans_date"]) is not None, "bad_date"),
    )
    return next(((reason, "") for ok, reason in checks if not ok), ("", ""))


def result_fields(fields: dict[str, str], decision: str, key: str) -> tuple[dict, dict]:
    """The signed fields of the IPN and of the browser's return, for a verdict."""
    result_code, auth_result = RESULT_CODES[decision]
    echoed = {
        name: value
        for name, value in systempay.vads_fields(fields).items()
        if not name.startswith(_NOT_ECHOED)
    }
    result = {
        **echoed,
        "vads_auth_result": auth_result,
        "vads_effective_amount": fields["vads_amount"],
        "vads_effective_currency": fields["vads_currency"],
        "vads_operation_type": "DEBIT",
        "vads_result": result_code,
        "vads_trans_status": decision,
        "vads_trans_uuid": uuid.uuid4().hex,
        "vads_url_check_src": "PAY",
    }
    card = TEST_CARD if decision != "ABANDONED" else {}
    return systempay.signed({**result, **card}, key), systempay.signed(result, key)


def _sent(request: Request) -> collections.deque:
    if not hasattr(request.app.ctx, "sandbox_notifications"):
        request.app.ctx.sandbox_notifications = collections.deque(maxlen=50)
    return request.app.ctx.sandbox_notifications


async def _notify(request: Request, url: str, fields: dict[str, str]) -> int | None:
    """POST the IPN like the platform: form-encoded, server to server; the status it got."""
    try:
        async with httpx.AsyncClient(timeout=NOTIFICATION_TIMEOUT) as client:
            status: int | None = (await client.post(url, data=fields)).status_code
    except httpx.HTTPError as error:
        log.warning("sandbox: notification to %s failed: %s", url, type(error).__name__)
        status = None
    _sent(request).appendleft({"url": url, "status_code": status, "fields": fields})
    return status


def _refused(reason: str, field: str = "") -> HTTPResponse:
    return html(render("payments/sandbox_refused.html", reason=reason, field=field), status=400)


@bp.post(PREFIX)
async def payment_page(request: Request) -> HTTPResponse:
    settings: Settings = request.app.ctx.settings
    fields = platform_fields(request)
    reason, field = form_problem(fields, settings)
    if reason:
        return _refused(reason, field)
    return html(
        render(
            "payments/sandbox.html",
            mode=fields["vads_ctx_mode"],
            amount=format_eur(systempay.euros(fields["vads_amount"])),
            site_id=fields["vads_site_id"],
            order_id=fields.get("vads_order_id", ""),
            trans_id=fields["vads_trans_id"],
            action=f"{PREFIX}/decision",
            fields={**systempay.vads_fields(fields), "signature": fields["signature"]},
            decisions=DECISIONS,
        ),
        headers=SECRET_LINK_PAGE,
    )


@bp.post(f"{PREFIX}/decision")
async def decide(request: Request) -> HTTPResponse:
    settings: Settings = request.app.ctx.settings
    fields = platform_fields(request)
    decision = fields.pop("decision", "")
    reason, field = form_problem(fields, settings)
    if reason or decision not in DECISIONS:
        return _refused(reason or "unknown_decision", field)
    ipn, back = result_fields(fields, decision, settings.systempay_key)
    check_url = fields.get("vads_url_check") or settings.public_base_url + NOTIFICATION_PATH
    if not check_url.startswith(("http://", "https://")):
        return _refused("bad_notification_url")
    ipn_status = await _notify(request, check_url, ipn)
    return_url = fields.get("vads_url_return", "")
    if decision == "ABANDONED" and fields.get("vads_url_cancel"):
        return_url = fields["vads_url_cancel"]
    if not return_url.startswith(("http://", "https://")):
        return html(render("payments/sandbox_done.html", status=decision, ipn_status=ipn_status))
    if fields.get("vads_return_mode") == "GET":
        separator = "&" if "?" in return_url else "?"
        return_url = f"{return_url}{separator}{urlencode(back)}"
    return redirect(return_url, status=303)


@bp.get(f"{PREFIX}/notifications")
async def notifications(request: Request) -> HTTPResponse:
    return json(list(_sent(request)))


@bp.post(f"{PREFIX}/notifications/replay")
async def replay(request: Request) -> HTTPResponse:
    """Send the newest notification again, unchanged (the platform retries on failures)."""
    sent = _sent(request)
    if not sent:
        message = message_text("not_found.notification")
        return json({"error": "not_found", "message": message}, status=404)
    latest = sent[0]
    status = await _notify(request, latest["url"], latest["fields"])
    return json({"url": latest["url"], "status_code": status})
