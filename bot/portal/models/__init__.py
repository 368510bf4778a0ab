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
from bot.portal.models.conversation_review import (
    ConversationSummary,
    ConversationTag,
    ReviewStatus,
    TranscriptIndexState,
)
from bot.portal.models.direct_debit import (
    DirectDebitDraft,
    DirectDebitRequest,
    DirectDebitStatus,
)
from bot.portal.models.household import Household, Lease
from bot.portal.models.insurance import (
    IN_FORCE_STATUSES,
    CertificateStatus,
    InsuranceCertificate,
)
from bot.portal.models.outbox import OutboxAttachment, OutboxEmail
from bot.portal.models.payment import Payment, PaymentStatus
from bot.portal.models.staff import StaffAccount, StaffAuditEntry, StaffRole
from bot.portal.models.upload import UPLOAD_KINDS, StoredUpload, UploadSlot
from bot.portal.models.verification import ConversationGrant, VerificationChallenge
from bot.portal.models.widget_token import RedeemedWidgetToken

__all__ = [
    "IN_FORCE_STATUSES",
    "LIVE_STATUSES",
    "UPLOAD_KINDS",
    "Account",
    "AccountStatus",
    "Base",
    "CertificateStatus",
    "ConversationGrant",
    "ConversationSummary",
    "ConversationTag",
    "DirectDebitDraft",
    "DirectDebitRequest",
    "DirectDebitStatus",
    "HandoffRequest",
    "Household",
    "InsuranceCertificate",
    "Lease",
    "OneTimeToken",
    "OutboxAttachment",
    "OutboxEmail",
    "Payment",
    "PaymentStatus",
    "RateLimitCounter",
    "RedeemedWidgetToken",
    "ReviewStatus",
    "StaffAccount",
    "StaffAuditEntry",
    "StaffRole",
    "StoredUpload",
    "TokenPurpose",
    "TranscriptIndexState",
    "UploadSlot",
    "VerificationChallenge",
    "utcnow",
]
