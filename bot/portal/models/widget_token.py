"""Widget session tokens already redeemed, so that each one verifies one conversation, once.

The logged-in tenant page mints a signed, short-lived token on every view; the first
conversation that redeems it gets the grant, and its id (``jti``) is recorded here until the
token expires. A second redemption, by the same conversation or any other, finds the row and is
refused. No personal data: a random id and two dates (the grant says who and which conversation).
"""

from __future__ import annotations

from sqlalchemy import Column, String

from bot.portal.models.base import Base, UTCDateTime, utcnow


class RedeemedWidgetToken(Base):
    __tablename__ = "redeemed_widget_tokens"

    #: The token's random ``jti`` claim (or the digest of a token minted without one).
    jti = Column(String(64), primary_key=True)
    redeemed_at = Column(UTCDateTime, nullable=False, default=utcnow)
    #: The token's own expiry: the row is useless after it and is purged.
    expires_at = Column(UTCDateTime, nullable=False, index=True)
