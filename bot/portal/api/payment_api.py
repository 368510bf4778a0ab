"""Online rent payment at the edge: the link the bot hands out, the page it opens, and the
platform's notification (IPN) and return. Business rules are in ``services/payments.py``.

- ``POST /api/v1/payments`` (service token, verified conversation): a single-use payment link.
- ``GET /paiement/<token>``: the signed form, posted to the platform by the tenant's browser.
- ``POST /paiement/notification``: the platform's signed verdict, server to server.
- ``GET|POST /paiement/retour``: where the platform sends the tenant back; reads only.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, html, json

from bot.errors import InvalidInput
from bot.policy.money import format_eur
from bot.portal.api.auth import service_token_required, verified_grant
from bot.portal.services import payments
from bot.portal.templating import render
from bot.web.headers import SECRET_LINK_PAGE
from bot.web.inputs import conversation_id, json_object, text_field

bp = Blueprint("payments")

_PRIVATE = SECRET_LINK_PAGE
MAX_FIELDS = 100
MAX_VALUE_LENGTH = 1100  # URLs may be 1024 characters long in the platform's protocol


def _page(template: str, *, status: int = 200, **context: object) -> HTTPResponse:
    return html(render(template, **context), status=status, headers=_PRIVATE)


def platform_fields(request: Request) -> dict[str, str]:
    """The form (POST) or query (GET) fields the platform sent, first value of each.

    Parsed here rather than with ``request.form``: Sanic drops blank values, and the platform
    signs every ``vads_`` field it sends, empty ones included.
    """
    if request.method == "POST":
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            raise InvalidInput(code="bad_form")
        try:
            text = (request.body or b"").decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidInput(code="bad_form", variant="encoding") from error
    else:
        text = request.query_string
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError as error:
        raise InvalidInput(code="too_many_fields") from error
    fields: dict[str, str] = {}
    for name, value in pairs:
        if len(value) > MAX_VALUE_LENGTH:
            raise InvalidInput(code="too_long")
        fields.setdefault(name, value)
    return fields


@bp.post("/api/v1/payments")
@service_token_required
async def create_payment(request: Request) -> HTTPResponse:
    """A payment link for the verified household: ``{lease_reference, amount}``, both optional
    when there is a single lease and a balance due (the balance is then the amount)."""
    body = json_object(request)
    settings = request.app.ctx.settings
    async with request.app.ctx.sessions.begin() as session:
        grant = await verified_grant(request, session)
        issued = await payments.create_payment(
            session=session,
            settings=settings,
            household_id=grant.household_id,
            account_id=grant.account_id,
            lease_reference=text_field(body, "lease_reference", required=False),
            amount=body.get("amount"),
            conversation_id=conversation_id(request),
        )
    payment, lease = issued.payment, issued.lease
    return json(
        {
            "payment_url": payments.payment_url(settings, issued.token),
            "expires_at": payment.expires_at.isoformat(),
            "amount": f"{payment.amount:.2f}",
            "amount_text": format_eur(payment.amount),
            "lease_reference": lease.reference,
            "lease_label": lease.label,
            "reference": payment.reference,
        },
        status=201,
    )


@bp.get("/paiement/<token:str>")
async def payment_page(request: Request, token: str) -> HTTPResponse:
    settings = request.app.ctx.settings
    async with request.app.ctx.sessions.begin() as session:
        opened = await payments.open_payment(session=session, settings=settings, token=token)
    if opened.problem or opened.payment is None or opened.lease is None:
        return _page("payments/link_invalid.html", status=410, reason=opened.problem)
    return _page(
        "payments/redirect.html",
        action=settings.payment_platform_url,
        fields=opened.fields,
        amount=format_eur(opened.payment.amount),
        reference=opened.payment.reference,
        lease_label=opened.lease.label,
        lease_reference=opened.lease.reference,
    )


@bp.post("/paiement/notification")
async def notification(request: Request) -> HTTPResponse:
    """The platform's IPN. Anything but a valid, matching signature is refused and changes
    nothing; a repeated notification is answered 200 and changes nothing either."""
    fields = platform_fields(request)
    async with request.app.ctx.sessions.begin() as session:
        outcome = await payments.apply_notification(
            session=session, settings=request.app.ctx.settings, fields=fields
        )
    if outcome.changed:
        request.app.ctx.outbox_wakeup.set()
    return json(
        {"reference": outcome.reference, "status": outcome.status.value, "changed": outcome.changed}
    )


@bp.route("/paiement/retour", methods=["GET", "POST"])
async def payment_return(request: Request) -> HTTPResponse:
    fields = platform_fields(request)
    async with request.app.ctx.sessions() as session:
        view = await payments.return_view(
            session=session, settings=request.app.ctx.settings, fields=fields
        )
    if view.payment is None or view.lease is None:
        return _page("payments/result.html", outcome="unknown")
    outcome = view.payment.status.value
    if outcome == "pending" and view.announced:
        # The platform told the browser before its notification reached us: say "in progress"
        # for an acceptance (the email confirms it), the verdict itself otherwise.
        outcome = "pending" if view.announced == "accepted" else view.announced
    return _page(
        "payments/result.html",
        outcome=outcome,
        amount=format_eur(view.payment.amount),
        reference=view.payment.reference,
        lease_label=view.lease.label,
        lease_reference=view.lease.reference,
    )
