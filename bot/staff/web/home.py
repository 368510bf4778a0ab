"""The console's home page: who is logged in and the sections of the console."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from bot.staff.web.auth import HOME, staff_page, staff_required

bp = Blueprint("staff_home")


@bp.get(HOME, strict_slashes=False)
@staff_required()
async def home(request: Request) -> HTTPResponse:
    return staff_page(request, "staff/home.html", section="overview")
