"""Staff console accounts and their audit log.

They live with the other portal tables (one ``Base``, one database, created by
``create_database``); the console itself (services, pages) is ``bot.staff``.
"""

from __future__ import annotations

import enum

from sqlalchemy import JSON, Boolean, Column, Enum, ForeignKey, Integer, String

from bot.portal.models.base import Base, UTCDateTime, utcnow


class StaffRole(str, enum.Enum):
    AGENT = "agent"  # reads transcripts, takes over conversations, validates submissions
    ADMIN = "admin"  # and manages staff accounts


class StaffAccount(Base):
    __tablename__ = "staff_accounts"

    id = Column(Integer, primary_key=True)
    email = Column(String(254), unique=True, nullable=False)  # lower case
    display_name = Column(String(120), nullable=False)
    role = Column(
        Enum(
            StaffRole,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        nullable=False,
        default=StaffRole.AGENT,
    )
    password_hash = Column(String(255), nullable=False)  # argon2id
    active = Column(Boolean, nullable=False, default=True)
    #: Failed logins since ``first_failed_at``; the account locks at the limit.
    failed_attempts = Column(Integer, nullable=False, default=0)
    first_failed_at = Column(UTCDateTime, nullable=True)
    locked_until = Column(UTCDateTime, nullable=True)
    #: Signed into the login cookies: bumping it (logout, deactivation) ends every session.
    session_epoch = Column(Integer, nullable=False, default=0)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    last_login_at = Column(UTCDateTime, nullable=True)


class StaffAuditEntry(Base):
    """Who did what, to what, when and from where; ``details`` never holds a secret."""

    __tablename__ = "staff_audit_entries"

    id = Column(Integer, primary_key=True)
    #: The staff member acting; null when unknown (failed login) or the operator's CLI.
    staff_id = Column(Integer, ForeignKey("staff_accounts.id"), nullable=True, index=True)
    action = Column(String(64), nullable=False, index=True)
    target_type = Column(String(32), nullable=True)
    target_id = Column(String(255), nullable=True)
    details = Column(JSON, nullable=True)
    at = Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    ip = Column(String(45), nullable=True)
