"""The staff audit log: one row per staff action, written in the transaction of the action.

Actions are short snake_case names (the constants below, and those pages record themselves,
e.g. ``conversation_taken_over``); the journal page words them (``staff/journal_labels.html``).
``details`` is a small JSON object of facts (a role, a reason, a count), never a secret: keys
that look like one are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.portal.models import StaffAuditEntry, utcnow

LOGIN = "login"
LOGIN_FAILED = "login_failed"
LOGOUT = "logout"
ACCESS_DENIED = "access_denied"
STAFF_CREATED = "staff_created"
STAFF_DEACTIVATED = "staff_deactivated"
STAFF_REACTIVATED = "staff_reactivated"
STAFF_UNLOCKED = "staff_unlocked"
STAFF_ROLE_CHANGED = "staff_role_changed"

#: Substrings of a ``details`` key that suggest a secret; such keys are refused outright.
_SECRET_HINTS = ("password", "mot_de_passe", "hash", "token", "jeton", "secret", "csrf", "cookie")
IP_MAX_LENGTH = 45
TARGET_ID_MAX_LENGTH = 255


def _checked(details: Mapping[str, object] | None) -> dict[str, object] | None:
    if not details:
        return None
    for key in details:
        if any(hint in key.lower() for hint in _SECRET_HINTS):
            raise ValueError(f"audit details must not hold secrets (key {key!r})")
    return dict(details)


async def record(
    action: str,
    *,
    session: AsyncSession,
    staff_id: int | None = None,
    target_type: str | None = None,
    target_id: str | int | None = None,
    details: Mapping[str, object] | None = None,
    ip: str | None = None,
    at: datetime | None = None,
) -> StaffAuditEntry:
    """Add an audit entry to ``session`` (committed with the action it records)."""
    entry = StaffAuditEntry(
        staff_id=staff_id,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id)[:TARGET_ID_MAX_LENGTH],
        details=_checked(details),
        ip=(ip or None) and ip[:IP_MAX_LENGTH],
        at=at or utcnow(),
    )
    session.add(entry)
    await session.flush()
    return entry


async def recent(
    *, session: AsyncSession, limit: int = 100, staff_id: int | None = None
) -> list[StaffAuditEntry]:
    """The newest entries first (of one staff member if ``staff_id`` is given)."""
    query = select(StaffAuditEntry).order_by(StaffAuditEntry.id.desc()).limit(limit)
    if staff_id is not None:
        query = query.where(StaffAuditEntry.staff_id == staff_id)
    return list(await session.scalars(query))
