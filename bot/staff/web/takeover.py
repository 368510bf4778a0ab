"""Takeover ("Reprises"): the queue of conversations handed to staff, and one conversation held
by an agent: take it (the bot pauses), reply on the tenant's own channel, hand it back.

::

    GET  /staff/reprises                       the queue: open requests, recently closed ones
    GET  /staff/reprises/<id>                  one conversation: transcript, reply, hand back
    GET  /staff/reprises/<id>/messages         JSON: lines after ?depuis=<timestamp>, polled
    POST /staff/reprises/<id>/prise            take it over (again, to pause the bot anew)
    POST /staff/reprises/<id>/reponse          send ``message`` to the tenant
    POST /staff/reprises/<id>/restitution      hand it back to the bot
    GET  /staff/static/takeover.js             the page's polling script (CSP: no inline script)

Each change and its audit entry are one transaction, and the call to Rasa happens inside it:
when Rasa does not answer, nothing is recorded and the agent is told so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sanic import Request, Sanic
from sanic.response import HTTPResponse, json, raw, redirect

from bot.errors import InvalidInput, PortalError
from bot.policy import opening_hours
from bot.portal.models import HandoffRequest, StaffRole, utcnow
from bot.portal.services import handoff
from bot.settings import Settings
from bot.staff.takeover import transcript
from bot.staff.takeover.rasa_api import RasaApiError, RasaClient
from bot.staff.web.auth import HEADERS, french_datetime, record_action, staff_page, staff_required
from bot.web.errors import status_of
from bot.web.inputs import IdBlueprint

bp = IdBlueprint("staff_takeover")

QUEUE = "/staff/reprises"
SCRIPT = "/staff/static/takeover.js"
SCRIPT_FILE = Path(__file__).resolve().parents[1] / "static" / "takeover.js"
TAKEN = "conversation_taken_over"
REPLIED = "conversation_staff_reply"
HANDED_BACK = "conversation_handed_back"
#: What the conversation page confirms after a change (``?fait=``).
DONE = {"prise", "envoye", "rendue"}
#: Channels whose output channel Rasa can use outside a tenant's request (see rasa_api).
DELIVERING_CHANNELS = {"socketio", "telegram", "sms"}
MESSAGE_MAX_LENGTH = 2000


@bp.before_server_start
async def open_rasa_client(app: Sanic, _loop: object) -> None:
    settings: Settings = app.ctx.settings
    app.ctx.rasa = RasaClient(settings.rasa_api_url, settings.rasa_api_token)


@bp.after_server_stop
async def close_rasa_client(app: Sanic, _loop: object) -> None:
    await app.ctx.rasa.aclose()


def _rasa(request: Request) -> RasaClient:
    return request.app.ctx.rasa


def _back(handoff_id: int, done: str) -> HTTPResponse:
    return redirect(f"{QUEUE}/{handoff_id}?fait={done}", status=303, headers=HEADERS)


def _row(item: handoff.QueueItem) -> dict[str, Any]:
    request: HandoffRequest = item.request
    return {
        "id": request.id,
        "conversation_id": request.conversation_id,
        "channel": request.channel,
        "reason": request.reason,
        "topic": request.topic or "",
        "status": request.status,
        "created_at": french_datetime(request.created_at),
        "taken_by": item.taken_by or "",
        "taken_by_id": request.taken_by_id,
        "taken_at": french_datetime(request.taken_at),
        "closed_at": french_datetime(request.closed_at),
    }


# --------------------------------------------------------------------------- the queue


@bp.get(QUEUE, strict_slashes=False)
@staff_required()
async def queue(request: Request) -> HTTPResponse:
    async with request.app.ctx.sessions() as session:
        waiting, closed = await handoff.queue(session=session)
    hours = request.app.ctx.settings.staff_opening_hours
    return staff_page(
        request,
        "staff/takeover_queue.html",
        section="handoffs",
        items=[_row(item) for item in waiting],
        closed=[_row(item) for item in closed],
        hours=hours,
        availability=opening_hours.availability(hours, now=utcnow()),
    )


# --------------------------------------------------------------------------- one conversation


async def _conversation_page(
    request: Request,
    handoff_id: int,
    *,
    status: int = 200,
    problem: str = "",
    rasa_down: bool = False,
    message: str = "",
) -> HTTPResponse:
    """``problem``: an error's message; ``rasa_down``: Rasa did not answer (the labels say it)."""
    async with request.app.ctx.sessions() as session:
        item = await handoff.get_handoff(session=session, handoff_id=handoff_id)
    row, staff = _row(item), request.ctx.staff
    tracker: dict[str, Any] | None
    try:
        tracker = await _rasa(request).tracker(item.request.conversation_id)
    except RasaApiError:
        tracker = None
    lines = transcript.lines(tracker) if tracker is not None else []
    channel = handoff.delivery_channel(item.request)
    done = request.args.get("fait", "")
    return staff_page(
        request,
        "staff/takeover_conversation.html",
        status=status,
        section="handoffs",
        item=row,
        lines=lines,
        cursor=lines[-1].timestamp if lines else 0,
        transcript_available=tracker is not None,
        paused=bool((tracker or {}).get("paused")),
        channel=channel,
        delivers=channel in DELIVERING_CHANNELS,
        holds=row["status"] == "taken"
        and (row["taken_by_id"] == staff.id or staff.role == StaffRole.ADMIN),
        problem=problem,
        rasa_down=rasa_down,
        done=done if done in DONE and not (problem or rasa_down) else "",
        message=message,
        max_length=MESSAGE_MAX_LENGTH,
    )


async def _refused(request: Request, handoff_id: int, error: Exception, message: str = ""):
    if isinstance(error, RasaApiError):
        return await _conversation_page(
            request, handoff_id, status=503, rasa_down=True, message=message
        )
    assert isinstance(error, PortalError)
    if status_of(error) == 404:
        raise error  # the portal's error pages say it
    return await _conversation_page(
        request, handoff_id, status=status_of(error), problem=error.message, message=message
    )


@bp.get(f"{QUEUE}/<handoff_id:id>")
@staff_required()
async def conversation(request: Request, handoff_id: int) -> HTTPResponse:
    return await _conversation_page(request, handoff_id)


@bp.get(f"{QUEUE}/<handoff_id:id>/messages")
@staff_required()
async def new_lines(request: Request, handoff_id: int) -> HTTPResponse:
    """What the page polls: the lines after ``depuis``, and whether the bot is paused."""
    try:
        since = float(request.args.get("depuis", "0") or 0)
    except ValueError:
        since = 0.0
    async with request.app.ctx.sessions() as session:
        item = await handoff.get_handoff(session=session, handoff_id=handoff_id)
    try:
        tracker = await _rasa(request).tracker(item.request.conversation_id)
    except RasaApiError:
        return json({"available": False, "status": item.request.status}, headers=HEADERS)
    lines = transcript.lines(tracker, since=since)
    body = {
        "available": True,
        "status": item.request.status,
        "paused": bool(tracker.get("paused")),
        "lines": [line.as_json() for line in lines],
        "cursor": lines[-1].timestamp if lines else since,
    }
    return json(body, headers=HEADERS)


@bp.post(f"{QUEUE}/<handoff_id:id>/prise")
@staff_required()
async def take(request: Request, handoff_id: int) -> HTTPResponse:
    staff = request.ctx.staff
    try:
        async with request.app.ctx.sessions.begin() as session:
            taken = await handoff.take_handoff(
                session=session, handoff_id=handoff_id, staff_id=staff.id
            )
            await _rasa(request).pause(taken.conversation_id)
            await record_action(
                request, session, TAKEN, target_type="handoff", target_id=handoff_id
            )
    except (PortalError, RasaApiError) as error:
        return await _refused(request, handoff_id, error)
    return _back(handoff_id, "prise")


def _message(request: Request) -> str:
    message = ((request.form.get("message") if request.form else "") or "").strip()
    if not message:
        raise InvalidInput(variant="empty_message", field="message")
    if len(message) > MESSAGE_MAX_LENGTH:
        raise InvalidInput(variant="message_too_long", field="message", maximum=MESSAGE_MAX_LENGTH)
    return message


@bp.post(f"{QUEUE}/<handoff_id:id>/reponse")
@staff_required()
async def reply(request: Request, handoff_id: int) -> HTTPResponse:
    staff = request.ctx.staff
    typed = ((request.form.get("message") if request.form else "") or "")[:MESSAGE_MAX_LENGTH]
    try:
        message = _message(request)
        async with request.app.ctx.sessions.begin() as session:
            item = await handoff.get_handoff(session=session, handoff_id=handoff_id)
            handoff.check_holder(item.request, staff)
            await _rasa(request).send_staff_message(
                item.request.conversation_id,
                message,
                staff_id=staff.id,
                channel=handoff.delivery_channel(item.request),
            )
            await record_action(
                request, session, REPLIED, target_type="handoff", target_id=handoff_id
            )
    except (PortalError, RasaApiError) as error:
        return await _refused(request, handoff_id, error, message=typed)
    return _back(handoff_id, "envoye")


@bp.post(f"{QUEUE}/<handoff_id:id>/restitution")
@staff_required()
async def hand_back(request: Request, handoff_id: int) -> HTTPResponse:
    try:
        async with request.app.ctx.sessions.begin() as session:
            closed = await handoff.hand_back(
                session=session, handoff_id=handoff_id, staff=request.ctx.staff
            )
            await _rasa(request).resume(closed.conversation_id)
            await record_action(
                request, session, HANDED_BACK, target_type="handoff", target_id=handoff_id
            )
    except (PortalError, RasaApiError) as error:
        return await _refused(request, handoff_id, error)
    return _back(handoff_id, "rendue")


# --------------------------------------------------------------------------- the script


@bp.get(SCRIPT)
@staff_required()
async def script(request: Request) -> HTTPResponse:
    return raw(
        SCRIPT_FILE.read_bytes(),
        content_type="text/javascript; charset=utf-8",
        headers={**HEADERS, "X-Content-Type-Options": "nosniff"},
    )
