"""Pages the emailed links lead to: activate an account, choose a new password; the home page."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, html

from bot.errors import InvalidInput, TokenInvalid
from bot.policy.rules import PASSWORD_RULES
from bot.portal.models import TokenPurpose
from bot.portal.services import recovery, registration
from bot.portal.services.tokens import find_valid_token
from bot.portal.templating import render
from bot.web.headers import SECRET_LINK_PAGE
from bot.web.inputs import form_field

bp = Blueprint("pages")

_FORMS = {
    "activation": ("pages/activate.html", TokenPurpose.ACTIVATION, "/compte/activer"),
    "reset": (
        "pages/new_password.html",
        TokenPurpose.PASSWORD_RESET,
        "/compte/nouveau-mot-de-passe",
    ),
}


def _page(template: str, *, status: int = 200, **context: object) -> HTTPResponse:
    return html(render(template, **context), status=status, headers=_NO_REFERRER)


_NO_REFERRER = SECRET_LINK_PAGE


def _link_problem_page(error: TokenInvalid, kind: str) -> HTTPResponse:
    return _page("pages/link_invalid.html", status=410, reason=error.code, kind=kind)


@bp.get("/")
async def home(request: Request) -> HTTPResponse:
    return _page("pages/home.html", dev=request.app.ctx.settings.is_development)


async def _show_form(request: Request, kind: str) -> HTTPResponse:
    template, purpose, action = _FORMS[kind]
    token = request.args.get("jeton", "")
    try:
        async with request.app.ctx.sessions() as session:
            await find_valid_token(session=session, raw=token, purpose=purpose)
    except TokenInvalid as error:
        return _link_problem_page(error, kind)
    return _page(template, token=token, action=action, rules=PASSWORD_RULES, problem=None)


async def _submit_form(request: Request, kind: str) -> HTTPResponse:
    template, _purpose, action = _FORMS[kind]
    token = form_field(request, "jeton")
    password = form_field(request, "mot_de_passe")
    confirmation = form_field(request, "confirmation")
    service = registration.activate if kind == "activation" else recovery.reset_password
    try:
        if password != confirmation:
            raise InvalidInput(variant="passwords_differ", field="confirmation")
        async with request.app.ctx.sessions.begin() as session:
            account = await service(
                session=session, settings=request.app.ctx.settings, token=token, password=password
            )
    except TokenInvalid as error:
        return _link_problem_page(error, kind)
    except InvalidInput as error:
        return _page(
            template,
            status=400,
            token=token,
            action=action,
            rules=PASSWORD_RULES,
            problem=error.message,
        )
    request.app.ctx.outbox_wakeup.set()
    return _page("pages/done.html", kind=kind, email=account.email)


@bp.get("/compte/activer")
async def activation_form(request: Request) -> HTTPResponse:
    return await _show_form(request, "activation")


@bp.post("/compte/activer")
async def activation_submit(request: Request) -> HTTPResponse:
    return await _submit_form(request, "activation")


@bp.get("/compte/nouveau-mot-de-passe")
async def reset_form(request: Request) -> HTTPResponse:
    return await _show_form(request, "reset")


@bp.post("/compte/nouveau-mot-de-passe")
async def reset_submit(request: Request) -> HTTPResponse:
    return await _submit_form(request, "reset")
