"""What every console page shares: ``staff_required``, page rendering with CSRF, the login
cookie, the audit of a request's action.

A page of a new section::

    bp = Blueprint("staff_conversations")

    @bp.get("/staff/conversations")
    @staff_required()                       # any active staff member; role=StaffRole.ADMIN: admins
    async def conversations(request: Request) -> HTTPResponse:
        staff = request.ctx.staff           # the StaffAccount, read again for this request
        ...
        return staff_page(request, "staff/conversations.html", section="conversations", ...)

    @bp.post("/staff/conversations/<conversation_id>/reprise")
    @staff_required()                       # the CSRF field was checked before the handler runs
    async def take_over(request: Request, conversation_id: str) -> HTTPResponse:
        async with request.app.ctx.sessions.begin() as session:
            ...                             # the change, then its audit entry, one transaction
            await record_action(request, session, "conversation_taken_over",
                                target_type="conversation", target_id=conversation_id)
        return redirect(..., status=303)

Templates live in ``bot/portal/templates/staff/``: ``{% extends "staff/layout.html" %}`` with
``{% block page_title %}`` and ``{% block staff_content %}`` (the layout draws the header, the
logout button and the navigation; ``section`` is the ``NavItem.key`` to mark as current). Every
form starts with ``<input type="hidden" name="csrf" value="{{ csrf }}">``. Add the section's
blueprint to ``console`` in ``bot/staff/web/__init__.py``; the app already serves the group, and
``tests/staff/test_pages.py`` then checks its routes for login, CSRF and (under
``/staff/administration``) the admin role by itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any
from urllib.parse import quote, urlsplit

from sanic import Request
from sanic.response import HTTPResponse, html, redirect
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import InvalidInput
from bot.policy.french_dates import FRANCE
from bot.portal.models import StaffAccount, StaffAuditEntry, StaffRole, utcnow
from bot.settings import Settings
from bot.staff.services import audit, sessions
from bot.staff.services.sessions import CSRF_COOKIE, IDLE_TIMEOUT, LOGIN_COOKIE
from bot.staff.templating import render
from bot.web import cookies
from bot.web.headers import STAFF_PAGE
from bot.web.inputs import client_ip, form_field

HOME = "/staff/"
LOGIN = "/staff/connexion"
HEADERS = STAFF_PAGE
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ROLE_LABELS = {StaffRole.AGENT: "agent", StaffRole.ADMIN: "administrateur"}

Handler = Callable[..., Awaitable[HTTPResponse]]


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    href: str
    admin_only: bool = False


#: The console's sections, in the order of the navigation.
NAVIGATION = (
    NavItem("overview", "Vue d'ensemble", HOME),
    NavItem("conversations", "Conversations", "/staff/conversations"),
    NavItem("handoffs", "Reprises", "/staff/reprises"),
    NavItem("validations", "Validations", "/staff/validations"),
    NavItem("administration", "Administration", "/staff/administration/comptes", admin_only=True),
)


def has_role(staff: StaffAccount, role: StaffRole | None) -> bool:
    """Administrators may do everything agents may."""
    return role is None or staff.role == role or staff.role == StaffRole.ADMIN


def french_datetime(value: datetime | None) -> str:
    return value.astimezone(FRANCE).strftime("%d/%m/%Y %H:%M") if value else ""


# --------------------------------------------------------------------------- cookies


def _set(response: HTTPResponse, name: str, value: str, settings: Settings, max_age: int | None):
    attributes = sessions.cookie_attributes(settings=settings)
    cookies.set_cookie(response, name, value, attributes, max_age=max_age)


def set_login_cookie(
    response: HTTPResponse, settings: Settings, staff: StaffAccount, *, issued_at: int | None
) -> None:
    cookie = sessions.mint_login_cookie(
        settings=settings, account=staff, now=utcnow(), issued_at=issued_at
    )
    _set(response, LOGIN_COOKIE, cookie, settings, int(IDLE_TIMEOUT.total_seconds()))


def clear_login_cookie(response: HTTPResponse, settings: Settings) -> HTTPResponse:
    _set(response, LOGIN_COOKIE, "", settings, 0)
    return response


# --------------------------------------------------------------------------- pages


def current_staff(request: Request) -> StaffAccount | None:
    return getattr(request.ctx, "staff", None)


def staff_page(
    request: Request, template: str, *, status: int = 200, section: str = "", **context: Any
) -> HTTPResponse:
    """A console page: its forms carry the CSRF token of this browser and staff member."""
    settings: Settings = request.app.ctx.settings
    staff = current_staff(request)
    secret, fresh = cookies.usable_csrf_secret(request.cookies.get(CSRF_COOKIE, ""))
    body = render(
        template,
        csrf=sessions.csrf_token(settings=settings, secret=secret, account=staff),
        staff=staff,
        role_label=ROLE_LABELS.get(staff.role, "") if staff else "",
        navigation=[
            item
            for item in NAVIGATION
            if staff is not None and (not item.admin_only or staff.role == StaffRole.ADMIN)
        ],
        section=section,
        **context,
    )
    response = html(body, status=status, headers=HEADERS)
    if fresh:
        _set(response, CSRF_COOKIE, secret, settings, None)
    return response


def csrf_ok(request: Request) -> bool:
    try:
        token = form_field(request, "csrf")
    except InvalidInput:
        return False
    return sessions.csrf_valid(
        settings=request.app.ctx.settings,
        secret=request.cookies.get(CSRF_COOKIE, ""),
        token=token,
        account=current_staff(request),
    )


def form_expired(request: Request) -> HTTPResponse:
    return staff_page(request, "staff/form_expired.html", status=403)


def forbidden(request: Request) -> HTTPResponse:
    return staff_page(request, "staff/forbidden.html", status=403)


def safe_next(target: str) -> str:
    """A console path to return to after logging in; the home page for anything else."""
    parts = urlsplit(target or "")
    path = parts.path
    if (
        parts.scheme
        or parts.netloc
        or not (path == "/staff" or path.startswith("/staff/"))
        or "//" in target
        or "\\" in target
        or not target.isprintable()
        or len(target) > 500
        or path == LOGIN
    ):
        return HOME
    return target


def to_login(request: Request) -> HTTPResponse:
    """303 to the login page, back to this page afterwards (GET only), stale cookie cleared."""
    location = LOGIN
    if request.method == "GET" and request.path not in (HOME, "/staff"):
        target = request.path + (f"?{request.query_string}" if request.query_string else "")
        location += "?suivant=" + quote(target, safe="/")
    response = redirect(location, status=303, headers=HEADERS)
    if LOGIN_COOKIE in request.cookies:
        clear_login_cookie(response, request.app.ctx.settings)
    return response


async def record_action(
    request: Request,
    session: AsyncSession,
    action: str,
    *,
    target_type: str | None = None,
    target_id: str | int | None = None,
    details: dict[str, object] | None = None,
) -> StaffAuditEntry:
    """Audit ``action`` by the staff member of ``request``, in the caller's transaction."""
    staff = current_staff(request)
    return await audit.record(
        action,
        session=session,
        staff_id=staff.id if staff is not None else None,
        target_type=target_type,
        target_id=target_id,
        details=details,
        ip=client_ip(request),
    )


# --------------------------------------------------------------------------- the decorator


def staff_required(role: StaffRole | None = None) -> Callable[[Handler], Handler]:
    """Only for a logged-in, active staff member (of ``role``, admins always qualify).

    Not logged in (or idle too long, logged out, deactivated): 303 to the login page. Role
    insufficient: 403 page, audited. POST (any unsafe method) without the CSRF field of this
    browser and staff member: 403 page. Otherwise the handler runs with ``request.ctx.staff``
    and each response renews the idle timeout.
    """

    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def guarded(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            settings: Settings = request.app.ctx.settings
            async with request.app.ctx.sessions() as session:
                login = await sessions.logged_in_staff(
                    session=session,
                    settings=settings,
                    cookie=request.cookies.get(LOGIN_COOKIE, ""),
                    now=utcnow(),
                )
            if login is None:
                return to_login(request)
            request.ctx.staff, claims = login
            if request.method in _UNSAFE_METHODS and not csrf_ok(request):
                return form_expired(request)
            if not has_role(request.ctx.staff, role):
                async with request.app.ctx.sessions.begin() as session:
                    await record_action(
                        request, session, audit.ACCESS_DENIED, details={"path": request.path}
                    )
                return forbidden(request)
            response = await handler(request, *args, **kwargs)
            if LOGIN_COOKIE not in response.cookies:  # unless the handler logged out
                set_login_cookie(response, settings, request.ctx.staff, issued_at=claims.issued_at)
            return response

        return guarded

    return decorate
