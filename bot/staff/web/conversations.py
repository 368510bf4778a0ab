"""Transcripts: the list of conversations, one conversation as a chat, staff annotations
(exports: ``conversation_exports.py``). Any active staff member (agents included) may use
them; each change is audited.

::

    GET  /staff/conversations                          list, filters, keyset pages
    GET  /staff/conversations/export.csv | .json       the filtered set, streamed
    GET  /staff/conversations/<id>                     the transcript
    GET  /staff/conversations/<id>/export.csv | .json  that conversation
    POST /staff/conversations/<id>/etiquettes          add a tag      (etiquette)
    POST /staff/conversations/<id>/etiquettes/retrait  remove a tag   (etiquette)
    POST /staff/conversations/<id>/note                replace the note (note)
    POST /staff/conversations/<id>/revue               statut = revue | a_revoir

``<id>`` is Rasa's sender id, percent-encoded. The list refreshes the index first (a few
milliseconds when nothing changed); the tracker store is opened read-only by this blueprint's
listeners on ``app.ctx.tracker``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from urllib.parse import parse_qsl, quote, urlencode

from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse, redirect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import InvalidInput, PortalError
from bot.policy.french_dates import FRANCE
from bot.portal.models import ConversationSummary, ConversationTag, ReviewStatus, StaffAccount
from bot.staff.transcripts import annotations, queries
from bot.staff.transcripts.queries import REVIEW_VALUES, ConversationFilters
from bot.staff.transcripts.tracker import TrackerStore, TrackerUnavailable
from bot.staff.web.auth import HEADERS, french_datetime, record_action, staff_page, staff_required
from bot.staff.web.index_refresh import refresh_before_reading, tracker_store
from bot.web.inputs import form_field

log = logging.getLogger(__name__)
bp = Blueprint("staff_conversations")

LIST = "/staff/conversations"
ONE = f"{LIST}/<conversation_id:str>"
#: Channels offered in the filter (others can still be typed in the query string).
CHANNELS = ("socketio", "telegram", "sms", "rest")
#: Query names of the list (filters and pages), kept in the way back from a transcript.
_LIST_ARGS = {"du", "au", "canal", "client", "verifiee", "sujet", "incompris", "conseiller"}
_LIST_ARGS |= {"revue", "etiquette", "q", "apres", "avant"}
#: What the transcript page confirms after a change (``?fait=``).
DONE = {"etiquette", "retrait", "note", "revue", "a_revoir"}
TAGGED = "conversation_tagged"
UNTAGGED = "conversation_untagged"
NOTE_SAVED = "conversation_note_saved"
REVIEWED = "conversation_reviewed"
REOPENED = "conversation_review_reopened"


# --------------------------------------------------------------------------- the tracker store


@bp.listener("before_server_start")
async def open_tracker(app: Sanic, _loop: object) -> None:
    app.ctx.tracker = TrackerStore(app.ctx.settings.resolved_tracker_database_url)


@bp.listener("after_server_stop")
async def close_tracker(app: Sanic, _loop: object) -> None:
    await app.ctx.tracker.close()


# --------------------------------------------------------------------------- view helpers


def href(conversation_id: str, suffix: str = "", back: str = "") -> str:
    path = f"{LIST}/{quote(conversation_id, safe='')}{suffix}"
    return f"{path}?{urlencode({'retour': back})}" if back else path


def _when(timestamp: float | None, pattern: str = "%d/%m/%Y %H:%M") -> str:
    return datetime.fromtimestamp(timestamp, FRANCE).strftime(pattern) if timestamp else ""


def _review(summary: ConversationSummary) -> str:
    if summary.review_status == ReviewStatus.REVIEWED:
        return "revue"
    reviewed = summary.reviewed_at
    if reviewed and summary.last_at and summary.last_at > reviewed.timestamp():
        return "nouveaux_messages"  # reopened by the tenant writing again, not by staff
    return "a_revoir"


def _row(summary: ConversationSummary, tags: list[str], back: str) -> dict[str, object]:
    return {
        "conversation_id": summary.conversation_id,
        "href": href(summary.conversation_id, back=back),
        "channel": summary.channel or "",
        "first_at": _when(summary.first_at),
        "last_at": _when(summary.last_at),
        "turns": summary.turns,
        "topics": summary.intents.split(),
        "fallback": summary.had_fallback,
        "handoff": summary.had_handoff,
        "client_number": summary.client_number or "",
        "review": _review(summary),
        "tags": tags,
    }


def _back(request: Request) -> str:
    """The list's query string to go back to (only filter and page names are kept)."""
    raw = request.args.get("retour", "") or (request.form.get("retour", "") if request.form else "")
    kept = [(key, value) for key, value in parse_qsl(raw[:1000]) if key in _LIST_ARGS]
    return urlencode(kept)


def _form(request: Request) -> dict[str, str]:
    return {name: request.args.get(name, "")[:200] for name in sorted(_LIST_ARGS)}


def _list_href(query: dict[str, str], **extra: int) -> str:
    params = {**query, **{key: str(value) for key, value in extra.items()}}
    return f"{LIST}?{urlencode(params)}" if params else LIST


async def _known_tags(session: AsyncSession) -> list[str]:
    return list(
        await session.scalars(select(ConversationTag.tag).distinct().order_by(ConversationTag.tag))
    )


# --------------------------------------------------------------------------- the list


@bp.get(LIST, strict_slashes=False)
@staff_required()
async def conversations(request: Request) -> HTTPResponse:
    refresh, tracker_ok = await refresh_before_reading(request)
    problem, status = "", 200
    try:
        filters = ConversationFilters.from_args(request.args)
        after = queries.parse_cursor(request.args, "apres")
        before = queries.parse_cursor(request.args, "avant")
    except InvalidInput as error:
        filters, after, before = ConversationFilters(), None, None
        problem, status = error.message, 400
    async with request.app.ctx.sessions() as session:
        page = None
        if not problem:
            page = await queries.list_page(
                session=session, filters=filters, after=after, before=before
            )
        known_tags = await _known_tags(session)
    query = filters.as_query()
    back = urlencode({**query, **({"apres": str(after)} if after else {})})
    return staff_page(
        request,
        "staff/conversations.html",
        status=status,
        section="conversations",
        problem=problem,
        form={**_form(request), **({} if problem else query)},  # dates as the date fields want
        rows=[_row(s, page.tags[s.id], back) for s in page.summaries] if page else [],
        total=page.total if page else 0,
        filtered=filters.active,
        newer_href=_list_href(query, avant=page.newer) if page and page.newer else "",
        older_href=_list_href(query, apres=page.older) if page and page.older else "",
        first_href=_list_href(query) if (after or before) else "",
        export_csv=f"{LIST}/export.csv" + (f"?{urlencode(query)}" if query else ""),
        export_json=f"{LIST}/export.json" + (f"?{urlencode(query)}" if query else ""),
        channels=CHANNELS,
        known_tags=known_tags,
        tracker_ok=tracker_ok,
        behind=refresh.behind if refresh else 0,
    )


# --------------------------------------------------------------------------- one conversation


async def summary_of(request: Request, conversation_id: str) -> ConversationSummary | None:
    async with request.app.ctx.sessions() as session:
        return await queries.find_summary(session=session, conversation_id=conversation_id)


def transcript_not_found(request: Request) -> HTTPResponse:
    return staff_page(
        request, "staff/transcript_not_found.html", status=404, section="conversations"
    )


async def _names(session: AsyncSession, *ids: int | None) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = await session.execute(
        select(StaffAccount.id, StaffAccount.display_name).where(StaffAccount.id.in_(wanted))
    )
    return dict(rows.all())


def _item(item: queries.TranscriptItem) -> dict[str, object]:
    confidence = item.confidence
    return {
        "kind": item.kind,
        "text": item.text,
        "intent": item.intent,
        "confidence": "" if confidence is None else f"{confidence * 100:.0f} %",
        "action": item.action,
        "buttons": item.buttons,
        "attachment": item.attachment,
        "time": _when(item.at, "%H:%M:%S"),
        "date": _when(item.at, "%d/%m/%Y %H:%M:%S"),
    }


async def _transcript_page(
    request: Request,
    summary: ConversationSummary,
    *,
    status: int = 200,
    problem: str = "",
    note: str | None = None,
) -> HTTPResponse:
    tracker_ok = True
    try:
        async with tracker_store(request).connect() as connection:
            transcript = await queries.read_transcript(
                connection=connection, conversation_id=summary.conversation_id
            )
    except TrackerUnavailable:
        transcript, tracker_ok = queries.Transcript(items=[], truncated=False), False
    async with request.app.ctx.sessions() as session:
        tags = (await queries.tags_of(session, [summary.id]))[summary.id]
        names = await _names(session, summary.reviewed_by_id, summary.note_by_id)
    done = request.args.get("fait", "")
    back = _back(request)
    one = href(summary.conversation_id)
    return staff_page(
        request,
        "staff/transcript.html",
        status=status,
        section="conversations",
        problem=problem,
        done=done if done in DONE and not problem else "",
        conversation={
            **_row(summary, tags, back),
            "path": one,
            "reviewed_by": names.get(summary.reviewed_by_id, "") if summary.reviewed_at else "",
            "reviewed_at": french_datetime(summary.reviewed_at),
            "note": summary.note or "" if note is None else note,
            "note_by": names.get(summary.note_by_id, "") if summary.note_at else "",
            "note_at": french_datetime(summary.note_at),
        },
        items=[_item(item) for item in transcript.items],
        truncated=transcript.truncated,
        tracker_ok=tracker_ok,
        back=back,
        list_href=f"{LIST}?{back}" if back else LIST,
        export_csv=f"{one}/export.csv",
        export_json=f"{one}/export.json",
    )


@bp.get(ONE, unquote=True)
@staff_required()
async def transcript(request: Request, conversation_id: str) -> HTTPResponse:
    summary = await summary_of(request, conversation_id)
    if summary is None or not summary.events:
        return transcript_not_found(request)
    return await _transcript_page(request, summary)


# --------------------------------------------------------------------------- annotations

#: What an annotation changes: the audit entry to write (action, details), None if nothing.
Audited = tuple[str, dict[str, object] | None] | None
Change = Callable[[AsyncSession, ConversationSummary, int], Awaitable[Audited]]


async def _annotate(
    request: Request, conversation_id: str, change: Change, done: str
) -> HTTPResponse:
    """Apply ``change`` and audit it in one transaction; back to the transcript (303)."""
    staff_id = request.ctx.staff.id
    try:
        async with request.app.ctx.sessions.begin() as session:
            summary = await queries.find_summary(session=session, conversation_id=conversation_id)
            if summary is None:
                return transcript_not_found(request)
            audited = await change(session, summary, staff_id)
            if audited is not None:
                action, details = audited
                await record_action(
                    request,
                    session,
                    action,
                    target_type="conversation",
                    target_id=conversation_id,
                    details=details,
                )
    except PortalError as error:
        summary = await summary_of(request, conversation_id)
        if summary is None:
            return transcript_not_found(request)
        note = request.form.get("note") if request.form and done == "note" else None
        return await _transcript_page(
            request, summary, status=400, problem=error.message, note=note
        )
    params = {"fait": done, **({"retour": _back(request)} if _back(request) else {})}
    return redirect(f"{href(conversation_id)}?{urlencode(params)}", status=303, headers=HEADERS)


@bp.post(f"{ONE}/etiquettes", unquote=True)
@staff_required()
async def add_tag(request: Request, conversation_id: str) -> HTTPResponse:
    async def change(session: AsyncSession, summary: ConversationSummary, staff_id: int) -> Audited:
        tag = await annotations.add_tag(
            session=session,
            summary=summary,
            tag=form_field(request, "etiquette"),
            staff_id=staff_id,
        )
        return (TAGGED, {"tag": tag}) if tag else None

    return await _annotate(request, conversation_id, change, "etiquette")


@bp.post(f"{ONE}/etiquettes/retrait", unquote=True)
@staff_required()
async def remove_tag(request: Request, conversation_id: str) -> HTTPResponse:
    async def change(session: AsyncSession, summary: ConversationSummary, staff_id: int) -> Audited:
        tag = form_field(request, "etiquette")
        removed = await annotations.remove_tag(session=session, summary=summary, tag=tag)
        return (UNTAGGED, {"tag": queries.normalise_tag(tag)}) if removed else None

    return await _annotate(request, conversation_id, change, "retrait")


@bp.post(f"{ONE}/note", unquote=True)
@staff_required()
async def save_note(request: Request, conversation_id: str) -> HTTPResponse:
    async def change(session: AsyncSession, summary: ConversationSummary, staff_id: int) -> Audited:
        note = (request.form.get("note", "") if request.form else "")[
            : annotations.NOTE_MAX_LENGTH + 1
        ]
        await annotations.set_note(session=session, summary=summary, note=note, staff_id=staff_id)
        return NOTE_SAVED, {"length": len(summary.note or "")}

    return await _annotate(request, conversation_id, change, "note")


@bp.post(f"{ONE}/revue", unquote=True)
@staff_required()
async def review(request: Request, conversation_id: str) -> HTTPResponse:
    value = form_field(request, "statut")
    status = REVIEW_VALUES.get(value)

    async def change(session: AsyncSession, summary: ConversationSummary, staff_id: int) -> Audited:
        if status is None:
            raise InvalidInput(code="invalid_status", field="statut")
        await annotations.set_review(
            session=session, summary=summary, status=status, staff_id=staff_id
        )
        return (REVIEWED if status == ReviewStatus.REVIEWED else REOPENED), None

    return await _annotate(request, conversation_id, change, value)
