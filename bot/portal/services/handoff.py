"""Requests to talk to a person, and their takeover by staff.

::

    waiting ──take (one staff member, first come)──> taken ──hand back──> closed
       └── asking again while a request is open updates that request

Pausing and resuming the bot is the staff console's part (``bot/staff/takeover``); this module
keeps the record of who holds which conversation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import Conflict, InvalidInput, NotFound
from bot.portal.models import HandoffRequest, StaffAccount, StaffRole, utcnow

REASONS = ("tenant_asked", "repeated_failures", "bot_gave_up")
#: A tenant who asks for a person outranks the bot giving up on its own.
_ASKED = ("tenant_asked", "repeated_failures")
CHANNELS = ("rest", "socketio", "telegram", "sms", "unknown")
RECENTLY_CLOSED = 20


def delivery_channel(request: HandoffRequest) -> str:
    """The channel a staff reply goes through: the one the conversation id names (the channel
    that authenticated the tenant: ``telegram:42``), else the one recorded with the request.
    Never the channel a message last came in on."""
    prefix, separator, rest = request.conversation_id.partition(":")
    if separator and rest and prefix in CHANNELS:
        return prefix
    return request.channel


async def _open_request(*, session: AsyncSession, conversation_id: str) -> HandoffRequest | None:
    return await session.scalar(
        select(HandoffRequest)
        .where(
            HandoffRequest.conversation_id == conversation_id,
            HandoffRequest.closed_at.is_(None),
        )
        .order_by(HandoffRequest.id.desc())
        .limit(1)
    )


async def record_handoff(
    *,
    session: AsyncSession,
    conversation_id: str,
    channel: str,
    reason: str,
    topic: str | None = None,
) -> HandoffRequest:
    """A new request, or the conversation's open one brought up to date."""
    if not conversation_id or len(conversation_id) > 255:
        raise InvalidInput(variant="conversation_id", field="conversation_id")
    if reason not in REASONS:
        raise InvalidInput(variant="handoff_reason", field="reason")
    channel = channel if channel in CHANNELS else "unknown"
    topic = (topic or None) and topic[:64]
    request = await _open_request(session=session, conversation_id=conversation_id)
    if request is None:
        request = HandoffRequest(
            conversation_id=conversation_id, channel=channel, reason=reason, topic=topic
        )
        session.add(request)
    else:
        request.channel = channel
        request.topic = topic or request.topic
        if reason in _ASKED:
            request.reason = reason
    await session.flush()
    return request


# --------------------------------------------------------------------------- the console's queue


@dataclass(frozen=True)
class QueueItem:
    request: HandoffRequest
    taken_by: str | None  # the display name of the staff member holding it


async def queue(*, session: AsyncSession) -> tuple[list[QueueItem], list[QueueItem]]:
    """Open requests (oldest first) and the most recently closed ones (newest first)."""
    base = select(HandoffRequest, StaffAccount.display_name).outerjoin(
        StaffAccount, StaffAccount.id == HandoffRequest.taken_by_id
    )
    open_rows = await session.execute(
        base.where(HandoffRequest.closed_at.is_(None)).order_by(HandoffRequest.id)
    )
    closed_rows = await session.execute(
        base.where(HandoffRequest.closed_at.is_not(None))
        .order_by(HandoffRequest.closed_at.desc())
        .limit(RECENTLY_CLOSED)
    )
    return (
        [QueueItem(request, name) for request, name in open_rows.all()],
        [QueueItem(request, name) for request, name in closed_rows.all()],
    )


async def get_handoff(*, session: AsyncSession, handoff_id: int) -> QueueItem:
    row = (
        await session.execute(
            select(HandoffRequest, StaffAccount.display_name)
            .outerjoin(StaffAccount, StaffAccount.id == HandoffRequest.taken_by_id)
            .where(HandoffRequest.id == handoff_id)
        )
    ).first()
    if row is None:
        raise NotFound(code="handoff_not_found")
    return QueueItem(row[0], row[1])


async def take_handoff(
    *, session: AsyncSession, handoff_id: int, staff_id: int, now: datetime | None = None
) -> HandoffRequest:
    """Give the waiting request to ``staff_id``; of two agents taking it at once, one wins.

    Taking again a conversation one already holds is allowed (to pause the bot anew).
    """
    claimed = await session.execute(
        update(HandoffRequest)
        .where(
            HandoffRequest.id == handoff_id,
            HandoffRequest.taken_at.is_(None),
            HandoffRequest.closed_at.is_(None),
        )
        .values(taken_by_id=staff_id, taken_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    item = await get_handoff(session=session, handoff_id=handoff_id)
    await session.refresh(item.request)
    mine = item.request.taken_by_id == staff_id and item.request.closed_at is None
    if claimed.rowcount != 1 and not mine:
        if item.request.closed_at is not None:
            raise Conflict(code="handoff_taken", variant="closed")
        if item.taken_by:
            raise Conflict(code="handoff_taken", variant="by", taken_by=item.taken_by)
        raise Conflict(code="handoff_taken")
    return item.request


def check_holder(request: HandoffRequest, staff: StaffAccount) -> None:
    """Only the staff member holding a conversation (or an administrator) acts on it."""
    if request.closed_at is not None:
        raise Conflict(code="handoff_closed")
    if request.taken_at is None:
        raise Conflict(code="handoff_not_taken")
    if request.taken_by_id != staff.id and staff.role != StaffRole.ADMIN:
        raise Conflict(code="handoff_not_yours")


async def hand_back(
    *, session: AsyncSession, handoff_id: int, staff: StaffAccount, now: datetime | None = None
) -> HandoffRequest:
    """Close the request held by ``staff``: the bot answers the conversation again."""
    request = (await get_handoff(session=session, handoff_id=handoff_id)).request
    check_holder(request, staff)
    request.closed_at = now or utcnow()
    await session.flush()
    return request
