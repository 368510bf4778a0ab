"""Administration (admins only): staff accounts (list, create, deactivate, reactivate, role)
and the audit log. The rules and the audit entries are in ``services/accounts.py``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sanic import Request
from sanic.response import HTTPResponse, redirect
from sqlalchemy import select

from bot.errors import InvalidInput, PortalError
from bot.policy.rules import PASSWORD_RULES
from bot.portal.models import StaffAccount, StaffRole, utcnow
from bot.staff.errors import StaffNotAllowed
from bot.staff.services import accounts, audit, staff_login
from bot.staff.web.auth import (
    HEADERS,
    ROLE_LABELS,
    forbidden,
    french_datetime,
    staff_page,
    staff_required,
)
from bot.web.errors import status_of
from bot.web.inputs import IdBlueprint, client_ip, form_field

bp = IdBlueprint("staff_admin")

ACCOUNTS = "/staff/administration/comptes"
JOURNAL = "/staff/administration/journal"
#: What the accounts page confirms after a change (``?fait=``).
DONE = {"cree", "desactive", "reactive", "deverrouille", "role"}
AUDIT_PAGE_SIZE = 200
admin_required = staff_required(role=StaffRole.ADMIN)


def _row(account: StaffAccount, *, me: StaffAccount) -> dict[str, object]:
    now = utcnow()
    return {
        "id": account.id,
        "display_name": account.display_name,
        "email": account.email,
        "role": account.role.value,
        "role_label": ROLE_LABELS[account.role],
        "active": account.active,
        "locked_until": (
            french_datetime(account.locked_until) if staff_login.is_locked(account, now) else ""
        ),
        "created_at": french_datetime(account.created_at),
        "last_login_at": french_datetime(account.last_login_at),
        "is_me": account.id == me.id,
    }


async def _accounts_page(
    request: Request, *, status: int = 200, problem: str = "", form: dict[str, str] | None = None
) -> HTTPResponse:
    async with request.app.ctx.sessions() as session:
        staff = await accounts.list_staff(session=session)
    done = request.args.get("fait", "")
    return staff_page(
        request,
        "staff/accounts.html",
        status=status,
        section="administration",
        accounts=[_row(account, me=request.ctx.staff) for account in staff],
        roles=[(role.value, ROLE_LABELS[role]) for role in StaffRole],
        rules=PASSWORD_RULES,
        problem=problem,
        done=done if done in DONE and not problem else "",
        form=form or {"email": "", "display_name": "", "role": StaffRole.AGENT.value},
    )


async def _refused(request: Request, error: PortalError, form: dict[str, str] | None = None):
    if isinstance(error, StaffNotAllowed):  # the role was withdrawn since the page was opened
        return forbidden(request)
    return await _accounts_page(request, status=status_of(error), problem=error.message, form=form)


@bp.get("/staff/administration", strict_slashes=False)
@admin_required
async def administration(request: Request) -> HTTPResponse:
    return redirect(ACCOUNTS, status=303, headers=HEADERS)


@bp.get(ACCOUNTS)
@admin_required
async def accounts_page(request: Request) -> HTTPResponse:
    return await _accounts_page(request)


@bp.post(ACCOUNTS)
@admin_required
async def create_account(request: Request) -> HTTPResponse:
    form = {"email": "", "display_name": "", "role": StaffRole.AGENT.value}
    try:
        form = {name: form_field(request, name) for name in form}
        password = form_field(request, "mot_de_passe")
        if password != form_field(request, "confirmation"):
            raise InvalidInput(code="password_mismatch", field="confirmation")
        async with request.app.ctx.sessions.begin() as session:
            await accounts.create_staff_account(
                session=session,
                email=form["email"],
                display_name=form["display_name"],
                role=form["role"],
                password=password,
                actor_id=request.ctx.staff.id,
                ip=client_ip(request),
            )
    except PortalError as error:
        return await _refused(request, error, form)
    return redirect(f"{ACCOUNTS}?fait=cree", status=303, headers=HEADERS)


async def _account_action(
    request: Request, action: Callable[..., Awaitable[object]], *, done: str, **values: object
) -> HTTPResponse:
    """Run ``action`` (a ``services.accounts`` change) as the signed-in admin, then back to the
    list saying ``done``, or why it was refused."""
    try:
        async with request.app.ctx.sessions.begin() as session:
            await action(
                session=session, actor_id=request.ctx.staff.id, ip=client_ip(request), **values
            )
    except PortalError as error:
        return await _refused(request, error)
    return redirect(f"{ACCOUNTS}?fait={done}", status=303, headers=HEADERS)


@bp.post(f"{ACCOUNTS}/<account_id:id>/desactivation")
@admin_required
async def deactivate(request: Request, account_id: int) -> HTTPResponse:
    return await _account_action(
        request, accounts.set_active, done="desactive", account_id=account_id, active=False
    )


@bp.post(f"{ACCOUNTS}/<account_id:id>/reactivation")
@admin_required
async def reactivate(request: Request, account_id: int) -> HTTPResponse:
    return await _account_action(
        request, accounts.set_active, done="reactive", account_id=account_id, active=True
    )


@bp.post(f"{ACCOUNTS}/<account_id:id>/deverrouillage")
@admin_required
async def unlock(request: Request, account_id: int) -> HTTPResponse:
    return await _account_action(
        request, accounts.unlock, done="deverrouille", account_id=account_id
    )


@bp.post(f"{ACCOUNTS}/<account_id:id>/role")
@admin_required
async def change_role(request: Request, account_id: int) -> HTTPResponse:
    try:
        role = form_field(request, "role")
    except PortalError as error:
        return await _refused(request, error)
    return await _account_action(
        request, accounts.change_role, done="role", account_id=account_id, role=role
    )


@bp.get(JOURNAL)
@admin_required
async def journal(request: Request) -> HTTPResponse:
    async with request.app.ctx.sessions() as session:
        entries = await audit.recent(session=session, limit=AUDIT_PAGE_SIZE)
        names = dict((await session.execute(select(StaffAccount.id, StaffAccount.email))).all())
    rows = [
        {
            "at": french_datetime(entry.at),
            "who": names.get(entry.staff_id, "") if entry.staff_id else "",
            "action": entry.action,
            "target": f"{entry.target_type} {entry.target_id}" if entry.target_type else "",
            "details": ", ".join(
                f"{key} : {value}" for key, value in (entry.details or {}).items()
            ),
            "ip": entry.ip or "",
        }
        for entry in entries
    ]
    return staff_page(request, "staff/journal.html", section="administration", entries=rows)
