"""The logged-in tenant pages: log in, the page that hosts the chat widget, log out, unsubscribe.

The page mints a fresh widget session token on every view; the widget hands it to Rasa as
session metadata, so the conversation is verified without an emailed code. Rules, signing and
CSRF live in ``services/tenant_login.py``; these handlers only read the request and answer.
"""

from __future__ import annotations

from decimal import Decimal

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, html, redirect
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import InvalidInput, RateLimited
from bot.policy.money import format_eur
from bot.portal.models import Account, Household, Lease, utcnow
from bot.portal.services import accounts, balance, tenant_login
from bot.portal.services.tenant_login import CSRF_COOKIE, LOGIN_COOKIE, LOGIN_IDLE, LoginCookie
from bot.portal.templating import render
from bot.settings import Settings
from bot.web import cookies
from bot.web.headers import TENANT_PAGE
from bot.web.inputs import client_ip, form_field

bp = Blueprint("tenant_pages")

HOME = "/espace-locataire"
LOGIN = "/espace-locataire/connexion"
_HEADERS = TENANT_PAGE


def _set_cookie(
    response: HTTPResponse, name: str, value: str, settings: Settings, *, max_age: int | None
) -> None:
    attributes = tenant_login.cookie_attributes(settings=settings)
    cookies.set_cookie(response, name, value, attributes, max_age=max_age)


def _clear_login(response: HTTPResponse, settings: Settings) -> HTTPResponse:
    _set_cookie(response, LOGIN_COOKIE, "", settings, max_age=0)
    return response


def _page(request: Request, template: str, *, status: int = 200, **context: object) -> HTTPResponse:
    """A tenant page whose forms carry the CSRF token of the browser's CSRF cookie (set if new)."""
    settings: Settings = request.app.ctx.settings
    secret, fresh = cookies.usable_csrf_secret(request.cookies.get(CSRF_COOKIE, ""))
    csrf = tenant_login.csrf_token(settings=settings, secret=secret)
    response = html(render(template, csrf=csrf, **context), status=status, headers=_HEADERS)
    if fresh:
        _set_cookie(response, CSRF_COOKIE, secret, settings, max_age=None)
    return response


def _csrf_ok(request: Request) -> bool:
    try:
        token = form_field(request, "csrf")
    except InvalidInput:
        return False
    return tenant_login.csrf_valid(
        settings=request.app.ctx.settings, secret=request.cookies.get(CSRF_COOKIE, ""), token=token
    )


def _to_login(settings: Settings, query: str = "") -> HTTPResponse:
    return _clear_login(redirect(LOGIN + query, status=303, headers=_HEADERS), settings)


async def _logged_in(request: Request, session: AsyncSession) -> tuple[Account, LoginCookie] | None:
    return await tenant_login.logged_in_account(
        session=session,
        settings=request.app.ctx.settings,
        cookie=request.cookies.get(LOGIN_COOKIE, ""),
        now=utcnow(),
    )


def _lease_rows(leases: list[Lease]) -> list[dict[str, str]]:
    return [
        {
            "label": lease.label,
            "reference": lease.reference,
            "monthly_rent": format_eur(lease.monthly_rent),
            "balance_due": format_eur(lease.balance_due),
        }
        for lease in leases
    ]


def _socket_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.rasa_port}"


# --------------------------------------------------------------------------- log in


def _login_form(request: Request, *, status: int = 200, problem: str = "", email: str = ""):
    logged_out = request.args.get("deconnecte") == "1"
    return _page(
        request,
        "tenant/login.html",
        status=status,
        problem=problem,
        email=email,
        logged_out=logged_out and not problem,
    )


@bp.get(LOGIN)
async def login_form(request: Request) -> HTTPResponse:
    async with request.app.ctx.sessions() as session:
        if await _logged_in(request, session) is not None:
            return redirect(HOME, status=303, headers=_HEADERS)
    return _login_form(request)


@bp.post(LOGIN)
async def login_submit(request: Request) -> HTTPResponse:
    settings: Settings = request.app.ctx.settings
    if not _csrf_ok(request):
        return _login_form(request, status=403, problem="form_expired")
    try:
        email, password = form_field(request, "email"), form_field(request, "mot_de_passe")
    except InvalidInput:
        return _login_form(request, status=400, problem="credentials")
    try:
        async with request.app.ctx.sessions.begin() as session:
            account = await tenant_login.log_in(
                session=session,
                settings=settings,
                email=email,
                password=password,
                client_ip=client_ip(request),
            )
    except RateLimited:
        return _login_form(request, status=429, problem="rate_limited", email=email)
    if account is None:
        return _login_form(request, status=400, problem="credentials", email=email)
    response = redirect(HOME, status=303, headers=_HEADERS)
    cookie = tenant_login.mint_login_cookie(settings=settings, account=account, now=utcnow())
    _set_cookie(response, LOGIN_COOKIE, cookie, settings, max_age=int(LOGIN_IDLE.total_seconds()))
    return response


@bp.post("/espace-locataire/deconnexion")
async def logout(request: Request) -> HTTPResponse:
    if not _csrf_ok(request):
        return _page(request, "tenant/form_expired.html", status=403)
    return _to_login(request.app.ctx.settings, "?deconnecte=1")


# --------------------------------------------------------------------------- logged-in pages


@bp.get(HOME)
async def home(request: Request) -> HTTPResponse:
    settings: Settings = request.app.ctx.settings
    now = utcnow()
    async with request.app.ctx.sessions() as session:
        login = await _logged_in(request, session)
        if login is None:
            return _to_login(settings)
        account, claims = login
        household = await session.get(Household, account.household_id)
        leases = await balance.leases_of(session=session, household_id=account.household_id)
    due = balance.total_due(leases)
    widget = {
        "socketUrl": _socket_url(settings),
        "sessionToken": tenant_login.mint_widget_token(
            settings=settings, account_id=account.id, now=now
        ),
    }
    response = _page(
        request,
        "tenant/home.html",
        surname=household.signatory_surname if household else "",
        email=account.email,
        leases=_lease_rows(leases),
        total_due=format_eur(due),
        unpaid=due > Decimal("0.00"),
        widget=widget,
    )
    # Each view renews the idle timeout, within the login's maximum age.
    cookie = tenant_login.mint_login_cookie(
        settings=settings, account=account, now=now, issued_at=claims.issued_at
    )
    _set_cookie(response, LOGIN_COOKIE, cookie, settings, max_age=int(LOGIN_IDLE.total_seconds()))
    return response


@bp.get("/espace-locataire/desinscription")
async def unsubscribe_form(request: Request) -> HTTPResponse:
    async with request.app.ctx.sessions() as session:
        if await _logged_in(request, session) is None:
            return _to_login(request.app.ctx.settings)
    return _page(request, "tenant/unsubscribe.html")


@bp.post("/espace-locataire/desinscription")
async def unsubscribe_submit(request: Request) -> HTTPResponse:
    settings: Settings = request.app.ctx.settings
    if not _csrf_ok(request):
        return _page(request, "tenant/form_expired.html", status=403)
    async with request.app.ctx.sessions.begin() as session:
        login = await _logged_in(request, session)
        if login is None:
            return _to_login(settings)
        account = await accounts.unsubscribe(
            session=session, settings=settings, account_id=login[0].id
        )
        email = account.email
    request.app.ctx.outbox_wakeup.set()
    return _clear_login(_page(request, "tenant/unsubscribed.html", email=email), settings)
