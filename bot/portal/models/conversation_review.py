"""The staff console's index of conversations and what staff note about them.

Conversations themselves stay in Rasa's tracker store (already redacted); the portal keeps:

- ``ConversationSummary``: one row per conversation, *derived* from the tracker's ``events``
  table by ``bot.staff.transcripts.index`` (channel, activity, turns, topics, fallback, handoff,
  flows started and completed, verified household, folded tenant text for the search), plus the
  staff annotations (review, note) that never go to the tracker store;
- ``ConversationTag``: the tags staff put on a conversation;
- ``TranscriptIndexState``: how far the index has read the ``events`` table.

Times of activity are Rasa's own event timestamps (seconds since the epoch, as floats), so that
ordering and date filters compare numbers on every backend.
"""

from __future__ import annotations

import enum

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)

from bot.portal.models.base import Base, UTCDateTime, utcnow


class ReviewStatus(str, enum.Enum):
    PENDING = "pending"  # to review (new, or new messages since it was reviewed)
    REVIEWED = "reviewed"


class ConversationSummary(Base):
    __tablename__ = "conversation_summaries"
    __table_args__ = (
        # The list's default order (most recent activity first) and its keyset cursor.
        Index("ix_conversation_summaries_last_event_id", "last_event_id"),
        Index("ix_conversation_summaries_last_at", "last_at"),
    )

    id = Column(Integer, primary_key=True)
    #: Rasa's sender id.
    conversation_id = Column(String(255), nullable=False, unique=True)
    #: ``input_channel`` of the tenant's first message that names one (socketio, telegram...).
    channel = Column(String(64), nullable=True, index=True)
    first_event_id = Column(Integer, nullable=False, default=0)
    #: Highest tracker event id of the conversation: unique, so a keyset cursor on its own.
    last_event_id = Column(Integer, nullable=False, default=0)
    first_at = Column(Float, nullable=True)
    last_at = Column(Float, nullable=True)
    events = Column(Integer, nullable=False, default=0)
    #: Tenant messages.
    turns = Column(Integer, nullable=False, default=0)
    #: Intents of the tenant's messages, space separated with a space at each end.
    intents = Column(Text, nullable=False, default=" ")
    had_fallback = Column(Boolean, nullable=False, default=False)
    had_handoff = Column(Boolean, nullable=False, default=False)
    #: Flows (``bot.staff.transcripts.flows``) whose form started / whose closing response was
    #: sent, in the format of ``intents``. Nullable: ``db.create_database`` adds only nullable
    #: columns to an existing database; NULL means indexed before flows were recorded.
    flows_started = Column(Text, nullable=True)
    flows_completed = Column(Text, nullable=True)
    #: Client number of the household of the conversation's latest verification grant.
    client_number = Column(String(16), nullable=True, index=True)
    #: The tenant's (redacted) messages, lower case without accents, for the text search.
    search_text = Column(Text, nullable=False, default="")
    review_status = Column(
        Enum(
            ReviewStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        nullable=False,
        default=ReviewStatus.PENDING,
        index=True,
    )
    reviewed_by_id = Column(Integer, ForeignKey("staff_accounts.id"), nullable=True)
    reviewed_at = Column(UTCDateTime, nullable=True)
    note = Column(Text, nullable=True)
    note_by_id = Column(Integer, ForeignKey("staff_accounts.id"), nullable=True)
    note_at = Column(UTCDateTime, nullable=True)
    indexed_at = Column(UTCDateTime, nullable=False, default=utcnow)


class ConversationTag(Base):
    __tablename__ = "conversation_tags"
    __table_args__ = (
        UniqueConstraint("summary_id", "tag"),
        Index("ix_conversation_tags_tag", "tag", "summary_id"),
    )

    id = Column(Integer, primary_key=True)
    summary_id = Column(Integer, ForeignKey("conversation_summaries.id"), nullable=False)
    tag = Column(String(40), nullable=False)
    added_by_id = Column(Integer, ForeignKey("staff_accounts.id"), nullable=True)
    added_at = Column(UTCDateTime, nullable=False, default=utcnow)


class TranscriptIndexState(Base):
    """One row (``id`` 1): the last tracker event indexed, and ids still awaited below it."""

    __tablename__ = "transcript_index_state"

    id = Column(Integer, primary_key=True)
    last_event_id = Column(Integer, nullable=False, default=0)
    #: ``{event id: epoch seconds first missed}``: ids skipped while a later one was already
    #: committed (concurrent Rasa servers on PostgreSQL); looked for again for a while.
    awaited = Column(JSON, nullable=False, default=dict)
    refreshed_at = Column(UTCDateTime, nullable=True)
