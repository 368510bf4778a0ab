"""Logging in to and out of the staff console (``/staff/connexion``, ``/staff/deconnexion``).

The rules (lock-out, rate limit, audit) are in ``services/accounts.py``; the cookie and CSRF
in ``services/sessions.py``. Every refusal of a login gets the very same page.
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect

from bot.errors import InvalidInput, RateLimited
from bot.portal.models import utcnow
from bot.settings import Settings
from bot.staff.services import sessions, staff_login
from bot.staff.services.sessions import LOGIN_COOKIE
from bot.staff.web.auth import (
    HEADERS,
    LOGIN,
    clear_login_cookie,
    csrf_ok,
    safe_next,
    set_login_cookie,
    staff_page,
    staff_required,
)
from bot.web.inputs import client_ip, form_field

bp = Blueprint("staff_login")


def _login_form(
    request: Request, *, status: int = 200, problem: str = "", email: str = "", target: str = ""
) -> HTTPResponse:
    return staff_page(
        request,
        "staff/login.html",
        status=status,
        problem=problem,
        email=email,
        target=safe_next(target or request.args.get("suivant", "")),
        logged_out=request.args.get("deconnecte") == "1" and not problem,
    )


@bp.get(LOGIN)
async def login_form(request: Request) -> HTTPResponse:
    async with request.app.ctx.sessions() as session:
        login = await sessions.logged_in_staff(
            session=session,
            settings=request.app.ctx.settings,
            cookie=request.cookies.get(LOGIN_COOKIE, ""),
            now=utcnow(),
        )
    if login is not None:
        return redirect(safe_next(request.args.get("suivant", "")), status=303, headers=HEADERS)
    return _login_form(request)


@bp.post(LOGIN)
async def login_submit(request: Request) -> HTTPResponse:
    settings: Settings = request.app.ctx.settings
    if not csrf_ok(request):
        return _login_form(request, status=403, problem="form_expired")
    try:
        email, password = form_field(request, "email"), form_field(request, "mot_de_passe")
        target = form_field(request, "suivant")
    except InvalidInput:
        return _login_form(request, status=400, problem="credentials")
    if not email or not password:
        return _login_form(request, status=400, problem="credentials", email=email, target=target)
    try:
        async with request.app.ctx.sessions.begin() as session:
            attempt = await staff_login.attempt_login(
                session=session,
                settings=settings,
                email=email,
                password=password,
                ip=client_ip(request),
            )
    except RateLimited:
        return _login_form(request, status=429, problem="rate_limited", email=email, target=target)
    if attempt.account is None:
        return _login_form(request, status=400, problem="credentials", email=email, target=target)
    response = redirect(safe_next(target), status=303, headers=HEADERS)
    set_login_cookie(response, settings, attempt.account, issued_at=None)
    return response


@bp.post("/staff/deconnexion")
@staff_required()
async def logout(request: Request) -> HTTPResponse:
    async with request.app.ctx.sessions.begin() as session:
        await staff_login.log_out(
            session=session, account_id=request.ctx.staff.id, ip=client_ip(request)
        )
    response = redirect(f"{LOGIN}?deconnecte=1", status=303, headers=HEADERS)
    return clear_login_cookie(response, request.app.ctx.settings)
