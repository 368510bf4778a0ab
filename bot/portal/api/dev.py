"""Development-only routes; the blueprint is not even registered with production settings."""

from __future__ import annotations

import asyncio

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, html, json

from bot.mail.mailbox import read_mailbox
from bot.portal.templating import render

bp = Blueprint("dev", url_prefix="/dev")


@bp.get("/mailbox")
async def mailbox(request: Request) -> HTTPResponse:
    """JSON list of received emails, newest first; the same as a page for a browser."""
    # Reading files off the event loop: the API beside it keeps answering the action server.
    emails = await asyncio.to_thread(
        read_mailbox, request.app.ctx.settings.mailbox_dir, to=request.args.get("to")
    )
    wants_page = request.args.get("format") == "html" or (
        request.args.get("format") != "json" and "text/html" in request.headers.get("accept", "")
    )
    if wants_page:
        return html(render("dev/mailbox.html", emails=emails))
    return json([email.as_dict() for email in emails])
