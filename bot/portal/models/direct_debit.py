"""Direct-debit requests: what the tenant asked for, and the SEPA mandate they must sign.

The portal is the system of record, so the IBAN is stored in full, encrypted with the data key
(``models/encrypted.py``); it is never logged and shown elsewhere only masked, except to staff
comparing it with the signed mandate.

A request waits ``pending_signature`` until staff receive the signed mandate and an original
RIB (``active``: its leases get the debit day; an older active request for the same leases
becomes ``superseded``), reject it, or ask for more information (``info_requested``: the tenant
then makes a new request, with a new mandate).
"""

from __future__ import annotations

import enum

from sqlalchemy import (
    CheckConstraint,
    Column,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.orm import relationship

from bot.policy.landlord import DEBIT_DAYS
from bot.portal.models.base import Base, UTCDateTime, utcnow
from bot.portal.models.encrypted import EncryptedText


class DirectDebitStatus(str, enum.Enum):
    PENDING_SIGNATURE = "pending_signature"  # mandate emailed, signed copy not yet received
    ACTIVE = "active"  # signed mandate and original RIB received by staff
    REJECTED = "rejected"
    INFO_REQUESTED = "info_requested"  # staff asked for more; the tenant makes a new request
    SUPERSEDED = "superseded"  # was active until a newer mandate for the same leases


direct_debit_leases = Table(
    "direct_debit_request_leases",
    Base.metadata,
    Column("request_id", ForeignKey("direct_debit_requests.id"), primary_key=True),
    Column("lease_id", ForeignKey("leases.id"), primary_key=True),
)

_PENDING = text("status = 'pending_signature'")


class DirectDebitRequest(Base):
    __tablename__ = "direct_debit_requests"
    __table_args__ = (
        CheckConstraint(
            f"debit_day IN ({', '.join(map(str, DEBIT_DAYS))})", name="ck_direct_debit_day"
        ),
        # At most one request waiting for its signed mandate per household, even under races.
        Index(
            "uq_direct_debit_one_pending",
            "household_id",
            unique=True,
            sqlite_where=_PENDING,
            postgresql_where=_PENDING,
        ),
    )

    id = Column(Integer, primary_key=True)
    household_id = Column(Integer, ForeignKey("households.id"), nullable=False, index=True)
    account_id = Column(Integer, ForeignKey("accounts.id"), nullable=True)
    mandate_reference = Column(String(35), unique=True, nullable=False)  # SEPA: 35 chars max
    iban = Column(EncryptedText, nullable=False)  # compact, upper case; encrypted at rest
    bic = Column(String(11), nullable=True)
    bank_name = Column(String(120), nullable=False)
    holder_name = Column(String(120), nullable=False)
    address = Column(String(300), nullable=False)
    email = Column(String(254), nullable=False)
    debit_day = Column(Integer, nullable=False)
    rib_upload_id = Column(Integer, ForeignKey("stored_uploads.id"), nullable=False)
    status = Column(
        Enum(
            DirectDebitStatus,
            native_enum=False,
            length=24,
            values_callable=lambda e: [m.value for m in e],
        ),
        nullable=False,
        default=DirectDebitStatus.PENDING_SIGNATURE,
    )
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    decided_at = Column(UTCDateTime, nullable=True)
    #: The staff member who activated, rejected or questioned the request.
    decided_by_id = Column(Integer, ForeignKey("staff_accounts.id"), nullable=True)
    #: The reason of a rejection, or the information asked for (as emailed to the tenant).
    staff_note = Column(Text, nullable=True)

    leases = relationship("Lease", secondary=direct_debit_leases, order_by="Lease.id")


class DirectDebitDraft(Base):
    """The IBAN a conversation typed for a direct-debit request still being filled in.

    The chat never keeps the IBAN (the tracker store masks it at once), so the portal holds it
    from the turn it is typed until the request is sent or the form cancelled (then deleted);
    it expires with the verification, and the daily job deletes it once expired.
    """

    __tablename__ = "direct_debit_drafts"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), unique=True, nullable=False)
    household_id = Column(Integer, ForeignKey("households.id"), nullable=False)
    iban = Column(EncryptedText, nullable=False)  # compact, upper case; encrypted at rest
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    expires_at = Column(UTCDateTime, nullable=False)
