"""Extranet accounts and the one-time tokens their emailed links carry."""

from __future__ import annotations

import enum

from sqlalchemy import Column, Enum, ForeignKey, Integer, String
from sqlalchemy.orm import relationship

from bot.portal.models.base import Base, UTCDateTime, utcnow


class AccountStatus(str, enum.Enum):
    PENDING = "pending"  # registered, activation link not yet followed
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"  # the household may register again
    DEACTIVATED = "deactivated"  # 6 months after moving out


#: States in which an account still counts as "the" registration of its household.
LIVE_STATUSES = (AccountStatus.PENDING, AccountStatus.ACTIVE)


class Account(Base):
    __tablename__ = "accounts"

    id = Column(Integer, primary_key=True)
    household_id = Column(Integer, ForeignKey("households.id"), nullable=False, index=True)
    email = Column(String(254), nullable=False, index=True)
    password_hash = Column(String(255), nullable=True)
    status = Column(
        Enum(
            AccountStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        nullable=False,
        default=AccountStatus.PENDING,
    )
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    activated_at = Column(UTCDateTime, nullable=True)
    closed_at = Column(UTCDateTime, nullable=True)

    household = relationship("Household", back_populates="accounts")


class TokenPurpose(str, enum.Enum):
    ACTIVATION = "activation"
    PASSWORD_RESET = "password_reset"
    IDENTIFIER_CHANGE = "identifier_change"  # carries the pending address in ``new_email``


class OneTimeToken(Base):
    """A link secret: only its SHA-256 is stored; single use; short-lived."""

    __tablename__ = "one_time_tokens"

    id = Column(Integer, primary_key=True)
    account_id = Column(Integer, ForeignKey("accounts.id"), nullable=False, index=True)
    purpose = Column(
        Enum(
            TokenPurpose,
            native_enum=False,
            length=24,
            values_callable=lambda e: [m.value for m in e],
        ),
        nullable=False,
    )
    token_hash = Column(String(64), unique=True, nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    expires_at = Column(UTCDateTime, nullable=False)
    used_at = Column(UTCDateTime, nullable=True)
    revoked_at = Column(UTCDateTime, nullable=True)
    #: The address an identifier-change link makes the login once followed (else null).
    new_email = Column(String(254), nullable=True)

    account = relationship("Account")
