"""Home-insurance certificates: the one on file and the ones tenants submit for validation.

A certificate is *in force* for its household when it is ``current`` (on file in the landlord's
records) or ``accepted`` (submitted by the tenant and validated by staff); the latest one in
force prefills the next update. A submission starts ``pending``; staff accept it, reject it or
ask for more information (``info_requested``) within ``landlord.VALIDATION_DELAY_HOURS``.
Accepting one makes it the only certificate in force: the ones it replaces become
``superseded`` (kept, as the history). After a request for information the tenant sends a new
submission, which staff decide on instead.
"""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import Column, Date, Enum, ForeignKey, Index, Integer, String, Text, text

from bot.portal.models.base import Base, UTCDateTime, utcnow


class CertificateStatus(str, enum.Enum):
    CURRENT = "current"  # on file, from the landlord's records
    PENDING = "pending"  # submitted, waiting for staff
    ACCEPTED = "accepted"  # submitted and validated by staff
    REJECTED = "rejected"
    INFO_REQUESTED = "info_requested"  # staff asked the tenant for more information
    SUPERSEDED = "superseded"  # was in force until staff accepted a newer one


#: Statuses of a certificate that covers the household (reminders, prefill).
IN_FORCE_STATUSES = (CertificateStatus.CURRENT, CertificateStatus.ACCEPTED)


class InsuranceCertificate(Base):
    __tablename__ = "insurance_certificates"
    __table_args__ = (
        # One submission waiting for staff per household, even under concurrent requests.
        Index(
            "uq_insurance_one_pending_per_household",
            "household_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id = Column(Integer, primary_key=True)
    household_id = Column(Integer, ForeignKey("households.id"), nullable=False, index=True)
    insurer = Column(String(120), nullable=False)
    policy_number = Column(String(40), nullable=False)
    valid_until: date = Column(Date, nullable=False)
    status = Column(
        Enum(
            CertificateStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        nullable=False,
        default=CertificateStatus.PENDING,
    )
    # The upload slot holding the PDF (none for a certificate imported from the records); one
    # certificate per uploaded file.
    upload_slot_id = Column(Integer, ForeignKey("upload_slots.id"), nullable=True, unique=True)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    submitted_at = Column(UTCDateTime, nullable=True)
    decided_at = Column(UTCDateTime, nullable=True)
    #: The staff member who accepted, rejected or questioned the submission.
    decided_by_id = Column(Integer, ForeignKey("staff_accounts.id"), nullable=True)
    #: The reason of a rejection, or the information asked for (as emailed to the tenant).
    staff_note = Column(Text, nullable=True)
    # Expiry reminders: the smallest "days before expiry" threshold already reminded for, so
    # that the daily job sends each reminder once whatever how often it runs.
    reminder_days_before = Column(Integer, nullable=True)
    reminder_sent_at = Column(UTCDateTime, nullable=True)
