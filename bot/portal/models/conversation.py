"""What the portal records about conversations: handoff requests and rate-limit counters."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String, Text, UniqueConstraint

from bot.portal.models.base import Base, UTCDateTime, utcnow


class HandoffStatus:
    WAITING = "waiting"  # in the staff console's queue
    TAKEN = "taken"  # a staff member holds the conversation; the bot is paused
    CLOSED = "closed"  # handed back to the bot


class HandoffRequest(Base):
    """A tenant asked for a person (or the bot gave up); the staff console lists these.

    One open request per conversation: asking again while one waits updates it.
    """

    __tablename__ = "handoff_requests"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    channel = Column(String(32), nullable=False)
    reason = Column(String(32), nullable=False)
    topic = Column(String(64), nullable=True)
    note = Column(Text, nullable=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    closed_at = Column(UTCDateTime, nullable=True)
    #: The staff member who took the conversation over, and when (null: still waiting).
    taken_by_id = Column(Integer, ForeignKey("staff_accounts.id"), nullable=True)
    taken_at = Column(UTCDateTime, nullable=True)

    @property
    def status(self) -> str:
        if self.closed_at is not None:
            return HandoffStatus.CLOSED
        if self.taken_at is not None:
            return HandoffStatus.TAKEN
        return HandoffStatus.WAITING


class RateLimitCounter(Base):
    """Attempts per key (conversation or client number) in fixed time windows."""

    __tablename__ = "rate_limit_counters"
    __table_args__ = (UniqueConstraint("key", "window_start"),)

    id = Column(Integer, primary_key=True)
    key = Column(String(300), nullable=False)
    window_start = Column(UTCDateTime, nullable=False)
    hits = Column(Integer, nullable=False, default=0)
