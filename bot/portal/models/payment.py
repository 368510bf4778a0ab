"""Online rent payments: one row per payment link, from creation to the platform's verdict.

No card data is ever stored: the tenant types it on the payment platform's page, and the
notification fields that describe the card are not kept.
"""

from __future__ import annotations

import enum
from decimal import Decimal

from sqlalchemy import CheckConstraint, Column, Enum, ForeignKey, Integer, String
from sqlalchemy.orm import relationship

from bot.portal.models.base import Base, Money, UTCDateTime, utcnow


class PaymentStatus(str, enum.Enum):
    CREATED = "created"  # link issued, not opened yet
    PENDING = "pending"  # link opened: the form went to the platform, verdict awaited
    ACCEPTED = "accepted"  # platform authorised it; the balance was reduced (once)
    REFUSED = "refused"  # platform (bank) refused it; nothing debited
    CANCELLED = "cancelled"  # abandoned or cancelled on the platform; nothing debited
    EXPIRED = "expired"  # link not used in time, or replaced by a newer one


#: States in which the platform's verdict is still awaited.
OPEN_STATUSES = (PaymentStatus.CREATED, PaymentStatus.PENDING)


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (CheckConstraint("amount > 0", name="ck_payment_amount_positive"),)

    id = Column(Integer, primary_key=True)
    #: Our order number, sent as ``vads_order_id``; random, so it reveals nothing.
    reference = Column(String(32), unique=True, nullable=False)
    #: ``vads_trans_id`` (6 digits), set once the id is known.
    trans_id = Column(String(6), nullable=True)
    #: ``vads_trans_date`` of the form actually posted (set when the link is opened).
    trans_date = Column(String(14), nullable=True)
    household_id = Column(Integer, ForeignKey("households.id"), nullable=False, index=True)
    lease_id = Column(Integer, ForeignKey("leases.id"), nullable=False, index=True)
    account_id = Column(Integer, ForeignKey("accounts.id"), nullable=False)
    conversation_id = Column(String(255), nullable=True)
    amount: Decimal = Column(Money, nullable=False)
    status = Column(
        Enum(
            PaymentStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        nullable=False,
        default=PaymentStatus.CREATED,
    )
    #: SHA-256 of the single-use link secret.
    token_hash = Column(String(64), unique=True, nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    expires_at = Column(UTCDateTime, nullable=False)
    opened_at = Column(UTCDateTime, nullable=True)
    paid_at = Column(UTCDateTime, nullable=True)
    closed_at = Column(UTCDateTime, nullable=True)
    #: Last ``vads_trans_status`` that changed the payment, and the platform's transaction id.
    platform_status = Column(String(32), nullable=True)
    platform_transaction = Column(String(64), nullable=True)
    notification_count = Column(Integer, nullable=False, default=0)
    last_notified_at = Column(UTCDateTime, nullable=True)

    lease = relationship("Lease")
