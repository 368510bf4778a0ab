"""Emails waiting to be delivered: written in the same transaction as the change they announce."""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, Text

from bot.portal.models.base import Base, UTCDateTime, utcnow


class OutboxEmail(Base):
    __tablename__ = "outbox_emails"

    id = Column(Integer, primary_key=True)
    to_address = Column(String(254), nullable=False)
    subject = Column(String(255), nullable=False)
    text_body = Column(Text, nullable=False)
    template = Column(String(64), nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    sent_at = Column(UTCDateTime, nullable=True, index=True)
    failed_at = Column(UTCDateTime, nullable=True)
    last_error = Column(String(500), nullable=True)
