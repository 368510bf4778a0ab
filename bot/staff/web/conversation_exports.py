"""Exports of transcripts, CSV or JSON, streamed; each export is audited with its filters.

::

    GET  /staff/conversations/export.csv | .json       the filtered set of the list
    GET  /staff/conversations/<id>/export.csv | .json  one conversation

The texts are those of the tracker store, already redacted (``bot.staff.transcripts.export``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from urllib.parse import urlencode

from sanic import Blueprint, Request
from sanic.compat import Header
from sanic.response import HTTPResponse, ResponseStream, stream

from bot.errors import InvalidInput
from bot.staff.transcripts import export
from bot.staff.transcripts.queries import ConversationFilters
from bot.staff.web.auth import HEADERS, record_action, staff_page, staff_required
from bot.staff.web.conversations import LIST, ONE, summary_of, transcript_not_found
from bot.staff.web.index_refresh import tracker_store

bp = Blueprint("staff_conversation_exports")

EXPORTED = "conversations_exported"


def _attachment(name: str) -> dict[str, str]:
    return {**HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}


def _safe_name(conversation_id: str) -> str:
    kept = "".join(c if c.isalnum() or c in "-_" else "_" for c in conversation_id)
    return kept[:80] or "conversation"


async def _export(
    request: Request,
    *,
    fmt: str,
    filters: ConversationFilters,
    conversation_id: str | None,
) -> ResponseStream:
    """Audit the export, then stream it (the headers carry the renewed login cookie)."""
    details = {"format": fmt, "filters": urlencode(filters.as_query())}
    async with request.app.ctx.sessions.begin() as session:
        await record_action(
            request,
            session,
            EXPORTED,
            target_type="conversation" if conversation_id else None,
            target_id=conversation_id,
            details=details,
        )
    exported = export.conversations(
        sessions=request.app.ctx.sessions,
        store=tracker_store(request),
        filters=filters,
        conversation_id=conversation_id,
    )
    chunks: AsyncIterator[str]
    if fmt == "csv":
        chunks, content_type = export.csv_chunks(exported), "text/csv; charset=utf-8"
    else:
        chunks, content_type = export.json_chunks(exported), "application/json; charset=utf-8"
    stem = _safe_name(conversation_id) if conversation_id else f"conversations-{date.today()}"

    async def write(response: ResponseStream) -> None:
        # A tracker store failing half-way raises here: the download ends unfinished (no
        # closing chunk), which browsers report as failed rather than as a complete file.
        async for chunk in chunks:
            await response.write(chunk)

    # ``stream()``: Sanic 21.12's streaming response whose headers (the staff login cookie the
    # decorator renews included) are only sent when the handler has returned.
    headers = Header(_attachment(f"{stem}.{fmt}"))  # a multidict: the cookie is added to it
    return stream(write, headers=headers, content_type=content_type)


async def _export_list(request: Request, fmt: str) -> HTTPResponse | ResponseStream:
    try:
        filters = ConversationFilters.from_args(request.args)
    except InvalidInput as error:
        return staff_page(
            request,
            "staff/conversations_export_refused.html",
            status=400,
            section="conversations",
            problem=error.message,
        )
    return await _export(request, fmt=fmt, filters=filters, conversation_id=None)


@bp.get(f"{LIST}/export.csv")
@staff_required()
async def export_list_csv(request: Request) -> HTTPResponse | ResponseStream:
    return await _export_list(request, "csv")


@bp.get(f"{LIST}/export.json")
@staff_required()
async def export_list_json(request: Request) -> HTTPResponse | ResponseStream:
    return await _export_list(request, "json")


async def _export_one(
    request: Request, conversation_id: str, fmt: str
) -> HTTPResponse | ResponseStream:
    summary = await summary_of(request, conversation_id)
    if summary is None or not summary.events:
        return transcript_not_found(request)
    return await _export(
        request, fmt=fmt, filters=ConversationFilters(), conversation_id=conversation_id
    )


@bp.get(f"{ONE}/export.csv", unquote=True)
@staff_required()
async def export_one_csv(request: Request, conversation_id: str) -> HTTPResponse | ResponseStream:
    return await _export_one(request, conversation_id, "csv")


@bp.get(f"{ONE}/export.json", unquote=True)
@staff_required()
async def export_one_json(request: Request, conversation_id: str) -> HTTPResponse | ResponseStream:
    return await _export_one(request, conversation_id, "json")
