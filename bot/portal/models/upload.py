"""Upload links and the files tenants send through them (a RIB, an insurance certificate...).

A slot is an upload link: its token is random, only its SHA-256 is stored, it works once and
expires. The file itself is kept in the database, encrypted (``EncryptedBytes``), the same on
SQLite and PostgreSQL, in the transaction that marks the slot used.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.orm import deferred, relationship

from bot.portal.models.base import Base, UTCDateTime, utcnow
from bot.portal.models.encrypted import EncryptedBytes

#: What a slot may accept: ``"pdf"`` (application/pdf) and ``"image"`` (PNG or JPEG).
UPLOAD_KINDS = frozenset({"pdf", "image"})


class UploadSlot(Base):
    __tablename__ = "upload_slots"

    id = Column(Integer, primary_key=True)
    household_id = Column(Integer, ForeignKey("households.id"), nullable=False, index=True)
    purpose = Column(String(40), nullable=False)  # "rib", "insurance_certificate"...
    kinds_text = Column("kinds", String(40), nullable=False)  # "image,pdf"
    token_hash = Column(String(64), unique=True, nullable=False)
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)
    expires_at = Column(UTCDateTime, nullable=False)
    used_at = Column(UTCDateTime, nullable=True)

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(self.kinds_text.split(","))


class StoredUpload(Base):
    """A file received through a slot, after its content was checked."""

    __tablename__ = "stored_uploads"

    id = Column(Integer, primary_key=True)
    slot_id = Column(Integer, ForeignKey("upload_slots.id"), nullable=False, unique=True)
    household_id = Column(Integer, ForeignKey("households.id"), nullable=False, index=True)
    # As the tenant's device named it, cleaned and with IBANs, card numbers and tokens masked
    # (``uploads.clean_filename``): shown to staff, never used as a path.
    filename = Column(String(160), nullable=False)
    kind = Column(String(8), nullable=False)  # "pdf" or "image"
    content_type = Column(String(40), nullable=False)  # detected, not the browser's claim
    size = Column(Integer, nullable=False)
    sha256 = Column(String(64), nullable=False)
    # Loaded only on demand (``upload_for``): status checks need not fetch megabytes. Encrypted
    # at rest: a RIB shows the IBAN.
    data = deferred(Column(EncryptedBytes, nullable=False))
    created_at = Column(UTCDateTime, nullable=False, default=utcnow)

    slot = relationship("UploadSlot")
