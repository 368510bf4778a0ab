"""Verified conversations: one-time codes sent by email, and the grants they lead to.

The grant is held here, keyed by the conversation id: the dialogue can hold a slot that *says*
the tenant is verified, but only a live grant in the portal opens account data.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String

from bot.portal.models.base import Base, UTCDateTime, utcnow


class VerificationChallenge(Base):
    """A 6-digit code emailed for one conversation; HMAC-hashed, 10 minutes, 5 attempts.

    A challenge is created even when the details match no account (``account_id`` null), so the
    tenant sees the same thing either way and no code can ever succeed for it.
    """

    __tablename__ = "verification_challenges"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    account_id = Column(Integer, ForeignKey("accounts.id"), nullable=True)
    code_hash = Column(String(64), nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    expires_at = Column(UTCDateTime, nullable=False)
    attempts = Column(Integer, nullable=False, default=0)
    verified_at = Column(UTCDateTime, nullable=True)
    closed_at = Column(UTCDateTime, nullable=True)


class ConversationGrant(Base):
    """The verified identity of a conversation, for a bounded time."""

    __tablename__ = "conversation_grants"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    account_id = Column(Integer, ForeignKey("accounts.id"), nullable=False)
    household_id = Column(Integer, ForeignKey("households.id"), nullable=False)
    method = Column(String(16), nullable=False)  # "email_code" or "session_token"
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    expires_at = Column(UTCDateTime, nullable=False)
    revoked_at = Column(UTCDateTime, nullable=True)
