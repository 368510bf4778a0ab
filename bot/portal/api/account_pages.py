"""The page an identifier-change link leads to.

``GET /compte/confirmer-identifiant?jeton=`` only shows the new address and a button: mail
scanners that prefetch links must not make the change. ``POST`` (field ``jeton``) makes it. A
used, expired or unknown link gets a 410 page; an address another household took meanwhile, a
409 page saying nothing changed.
"""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, html

from bot.errors import Conflict, TokenInvalid
from bot.portal.services import account_changes
from bot.portal.templating import render
from bot.web.headers import SECRET_LINK_PAGE
from bot.web.inputs import form_field

bp = Blueprint("account_pages")

_PRIVATE = SECRET_LINK_PAGE


def _page(template: str, *, status: int = 200, **context: object) -> HTTPResponse:
    return html(render(template, **context), status=status, headers=_PRIVATE)


def _link_problem(error: TokenInvalid) -> HTTPResponse:
    return _page("pages/identifier_link_invalid.html", status=410, reason=error.code)


@bp.get(account_changes.IDENTIFIER_CHANGE_PATH)
async def confirm_identifier_form(request: Request) -> HTTPResponse:
    token = request.args.get("jeton", "")
    try:
        async with request.app.ctx.sessions() as session:
            pending = await account_changes.pending_identifier_change(session=session, token=token)
    except TokenInvalid as error:
        return _link_problem(error)
    return _page(
        "pages/confirm_identifier.html",
        token=token,
        action=account_changes.IDENTIFIER_CHANGE_PATH,
        new_email=pending.new_email,
    )


@bp.post(account_changes.IDENTIFIER_CHANGE_PATH)
async def confirm_identifier_submit(request: Request) -> HTTPResponse:
    token = form_field(request, "jeton")
    try:
        async with request.app.ctx.sessions.begin() as session:
            account = await account_changes.confirm_identifier_change(
                session=session, settings=request.app.ctx.settings, token=token
            )
    except TokenInvalid as error:
        return _link_problem(error)
    except Conflict as error:
        return _page("pages/identifier_taken.html", status=409, message=error.message)
    request.app.ctx.outbox_wakeup.set()
    return _page("pages/identifier_changed.html", email=account.email)
