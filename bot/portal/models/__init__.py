"""SQLAlchemy models of the portal; importing this package registers every table."""

from bot.portal.models.account import (
    LIVE_STATUSES,
    Account,
    AccountStatus,
    OneTimeToken,
    TokenPurpose,
)
from bot.portal.models.base import Base, utcnow
from bot.portal.models.conversation import HandoffRequest, RateLimitCounter
from bot.portal.models.household import Household, Lease
from bot.portal.models.outbox import OutboxEmail
from bot.portal.models.verification import ConversationGrant, VerificationChallenge

__all__ = [
    "LIVE_STATUSES",
    "Account",
    "AccountStatus",
    "Base",
    "ConversationGrant",
    "HandoffRequest",
    "Household",
    "Lease",
    "OneTimeToken",
    "OutboxEmail",
    "RateLimitCounter",
    "TokenPurpose",
    "VerificationChallenge",
    "utcnow",
]
