"""The page an upload link leads to: a form to send one file (a RIB, an insurance certificate).

``GET /depot/<token>`` shows the form; ``POST /depot/<token>`` (multipart, field ``fichier``)
checks and stores the file, then tells the tenant to go back to the conversation. A refused
file shows the form again with the reason, worded by its code in ``uploads/_document.html``;
a used, expired or unknown link gets a 410 page.
"""

from __future__ import annotations

from datetime import datetime

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, html

from bot.errors import InvalidInput, TokenInvalid
from bot.policy.french_dates import format_french_datetime
from bot.portal.models import UploadSlot
from bot.portal.services import uploads
from bot.portal.templating import render
from bot.settings import Settings
from bot.web.headers import SECRET_LINK_PAGE

bp = Blueprint("upload_pages")

FILE_FIELD = "fichier"
_ACCEPT = {"pdf": "application/pdf,.pdf", "image": "image/png,image/jpeg,.png,.jpg,.jpeg"}
_HEADERS = SECRET_LINK_PAGE


def _page(template: str, *, status: int = 200, **context: object) -> HTTPResponse:
    return html(render(template, **context), status=status, headers=_HEADERS)


def size_label(size: int) -> str:
    """``5 Mo``, ``1,5 Mo``, ``800 Ko``: how the limit is stated to the tenant."""
    if size >= 1024 * 1024:
        megabytes = f"{size / (1024 * 1024):.1f}".removesuffix(".0").replace(".", ",")
        return f"{megabytes} Mo"
    return f"{max(size // 1024, 1)} Ko"


def _local(moment: datetime) -> str:
    return format_french_datetime(moment)


def _form(
    settings: Settings,
    slot: UploadSlot,
    *,
    problem: InvalidInput | None = None,
    status: int = 200,
) -> HTTPResponse:
    return _page(
        "uploads/form.html",
        status=status,
        purpose=slot.purpose,
        kinds=sorted(slot.kinds),
        accept=",".join(_ACCEPT[kind] for kind in _ACCEPT if kind in slot.kinds),
        max_bytes=settings.upload_max_bytes,
        max_label=size_label(settings.upload_max_bytes),
        expires=_local(slot.expires_at),
        problem=problem.code if problem else None,
        problem_fallback=problem.message if problem else None,
    )


def _link_problem(error: TokenInvalid) -> HTTPResponse:
    return _page("uploads/link_invalid.html", status=410, reason=error.code)


async def _open_slot(request: Request, token: str) -> UploadSlot:
    async with request.app.ctx.sessions() as session:
        return await uploads.open_slot(session=session, raw_token=token)


@bp.get("/depot/<token>")
async def upload_form(request: Request, token: str) -> HTTPResponse:
    try:
        slot = await _open_slot(request, token)
    except TokenInvalid as error:
        return _link_problem(error)
    return _form(request.app.ctx.settings, slot)


@bp.post("/depot/<token>")
async def upload_submit(request: Request, token: str) -> HTTPResponse:
    settings: Settings = request.app.ctx.settings
    sent = request.files.get(FILE_FIELD) if request.files else None
    try:
        async with request.app.ctx.sessions.begin() as session:
            upload = await uploads.receive_upload(
                session=session,
                settings=settings,
                raw_token=token,
                filename=sent.name if sent else "",
                data=sent.body if sent else b"",
            )
            purpose = (await session.get(UploadSlot, upload.slot_id)).purpose
    except TokenInvalid as error:
        return _link_problem(error)
    except InvalidInput as error:
        try:
            slot = await _open_slot(request, token)
        except TokenInvalid as gone:
            return _link_problem(gone)
        status = 413 if error.code == "file_too_large" else 400
        return _form(settings, slot, problem=error, status=status)
    return _page("uploads/received.html", purpose=purpose, filename=upload.filename)
