"""Emails waiting to be delivered: written in the same transaction as the change they announce.

Bodies carry codes and links with one-time tokens, attachments a prefilled mandate (with the
IBAN): both are encrypted while they wait (``models/encrypted.py``), and emptied once the email
is delivered or given up on. What stays for audit: recipient, subject, template, dates, attempts.
Several workers may deliver at once: each claims the rows it sends for a lease.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.orm import relationship

from bot.portal.models.base import Base, UTCDateTime, utcnow
from bot.portal.models.encrypted import EncryptedBytes, EncryptedText


class OutboxEmail(Base):
    __tablename__ = "outbox_emails"

    id = Column(Integer, primary_key=True)
    to_address = Column(String(254), nullable=False)
    subject = Column(String(255), nullable=False)
    text_body = Column(EncryptedText, nullable=False)  # "" once delivered or given up on
    template = Column(String(64), nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    sent_at = Column(UTCDateTime, nullable=True, index=True)
    failed_at = Column(UTCDateTime, nullable=True)
    last_error = Column(String(500), nullable=True)
    # The delivery round sending the email, and until when it may: several portal workers
    # share the outbox, and a crashed worker's claim lapses (``services/outbox.py``).
    # Nullable, so that ``create_database`` adds them to an existing table.
    claimed_by = Column(String(64), nullable=True)
    claimed_until = Column(UTCDateTime, nullable=True)

    # Async sessions cannot lazy-load: whoever sends must load these (``selectinload``).
    attachments = relationship(
        "OutboxAttachment", order_by="OutboxAttachment.id", cascade="all, delete-orphan"
    )


class OutboxAttachment(Base):
    """A file sent with an email (a prefilled SEPA mandate...): its bytes go once it is sent."""

    __tablename__ = "outbox_attachments"

    id = Column(Integer, primary_key=True)
    email_id = Column(Integer, ForeignKey("outbox_emails.id"), nullable=False, index=True)
    filename = Column(String(160), nullable=False)
    content_type = Column(String(100), nullable=False)
    data = Column(EncryptedBytes, nullable=False)  # b"" once the email is delivered
