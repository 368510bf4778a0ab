"""Requests to talk to a person, recorded for the staff console's takeover queue."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.portal.errors import InvalidInput
from bot.portal.models import HandoffRequest

REASONS = ("tenant_asked", "repeated_failures", "bot_gave_up")
CHANNELS = ("rest", "socketio", "telegram", "sms", "unknown")


async def record_handoff(
    *,
    session: AsyncSession,
    conversation_id: str,
    channel: str,
    reason: str,
    topic: str | None = None,
) -> HandoffRequest:
    if not conversation_id or len(conversation_id) > 255:
        raise InvalidInput("Identifiant de conversation invalide.", field="conversation_id")
    if reason not in REASONS:
        raise InvalidInput("Motif de transfert inconnu.", field="reason")
    request = HandoffRequest(
        conversation_id=conversation_id,
        channel=channel if channel in CHANNELS else "unknown",
        reason=reason,
        topic=(topic or None) and topic[:64],
    )
    session.add(request)
    await session.flush()
    return request
