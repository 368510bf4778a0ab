"""Staff logging in and out: authentication with lock-out per client address.

Lock-out, per client address: ``LOCK_AFTER`` wrong passwords for an account from one address
within ``FAILURE_WINDOW`` lock *that address* out of the account for ``LOCK_DURATION``; from
it, even the right password is refused. The account itself is never locked: anyone could
otherwise keep a staff member out by typing their email with wrong passwords (issue 9), while
the right password from the staff member's own address still logs in. Guessing from many
addresses is slowed by the lock of each one and by the per-address rate limit below. The
failures are read back from the audit log (``login_failed`` entries carry the address); a
success from an address, an administrator's unlock or a reactivation starts its count anew.
``locked_until`` on the account is when its latest address lock ends, for the accounts page.

Every refusal (unknown email, wrong password, locked address or deactivated account) is the
same ``None`` and costs one argon2 verification, so neither the page nor its timing tells them
apart:

- saying "locked" only to whoever types the *right* password would turn the lock into an
  oracle: an attacker keeps guessing during the lock and the different answer confirms the
  password;
- saying "locked" to every attempt on a locked account would reveal which emails exist
  (unknown ones never lock).

So the login page always gives one message, which also says that repeated failures suspend
logins for a while; an administrator sees the lock on the accounts page and can lift it. Every
attempt is also counted per client IP (``ratelimit``), whatever the email, against password
spraying.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.policy import landlord
from bot.portal.models import StaffAccount, StaffAuditEntry, utcnow
from bot.portal.services import ratelimit, signing
from bot.portal.services.passwords import verify_password
from bot.settings import Settings
from bot.staff.services import audit
from bot.staff.services.accounts import TARGET, staff_account

#: The landlord's limits (``STAFF_WRONG_PASSWORDS``, ``STAFF_LOCK_DURATION``,
#: ``STAFF_LOGINS_PER_IP``), named here as the lock-out rule above and the tests use them.
LOCK_AFTER, FAILURE_WINDOW = landlord.STAFF_WRONG_PASSWORDS
LOCK_DURATION = landlord.STAFF_LOCK_DURATION
#: Login attempts per client IP, counted in ``settings.attempt_window``.
ATTEMPTS_PER_IP = landlord.STAFF_LOGINS_PER_IP.count


@dataclass(frozen=True)
class LoginAttempt:
    """Why an attempt failed; only the audit log and the tests see the reason."""

    account: StaffAccount | None
    reason: str  # "ok" | "unknown_email" | "wrong_password" | "locked" | "inactive"


def is_locked(account: StaffAccount, now: datetime) -> bool:
    return account.locked_until is not None and account.locked_until > now


@dataclass(frozen=True)
class AddressRecord:
    """What the audit log says of one client address and one account."""

    locked_until: datetime | None  # the end of the address's lock, if one was set
    failures: int  # wrong passwords within the window, since the last lock or fresh start


def _address(ip: str) -> str | None:
    return (ip or None) and ip[: audit.IP_MAX_LENGTH]  # as ``audit.record`` stores it


async def address_record(
    *, session: AsyncSession, account_id: int, ip: str, now: datetime
) -> AddressRecord:
    """Failures and lock of ``ip`` on the account, from the audit log up to ``now``."""
    address = _address(ip)
    from_there = StaffAuditEntry.ip.is_(None) if address is None else StaffAuditEntry.ip == address
    about = and_(
        StaffAuditEntry.target_type == TARGET, StaffAuditEntry.target_id == str(account_id)
    )
    rows = await session.execute(
        select(StaffAuditEntry.action, StaffAuditEntry.details, StaffAuditEntry.at)
        .where(
            StaffAuditEntry.at > now - max(FAILURE_WINDOW, LOCK_DURATION),
            StaffAuditEntry.at <= now,
            or_(
                and_(StaffAuditEntry.action == audit.LOGIN_FAILED, about, from_there),
                and_(
                    StaffAuditEntry.action == audit.LOGIN,
                    StaffAuditEntry.staff_id == account_id,
                    from_there,
                ),
                and_(
                    StaffAuditEntry.action.in_((audit.STAFF_UNLOCKED, audit.STAFF_REACTIVATED)),
                    about,
                ),
            ),
        )
        .order_by(StaffAuditEntry.at, StaffAuditEntry.id)
    )
    locked_until, failures = None, 0
    for action, details, at in rows:
        if action != audit.LOGIN_FAILED:  # a success from there, an unlock: a fresh start
            locked_until, failures = None, 0
        elif (details or {}).get("locked_minutes"):
            locked_until, failures = at + LOCK_DURATION, 0
        elif (details or {}).get("reason") == "wrong_password" and now - at < FAILURE_WINDOW:
            failures += 1
    return AddressRecord(locked_until, failures)


def _address_locked(account: StaffAccount, record: AddressRecord, now: datetime) -> bool:
    # Both: whatever the log says, no address is locked unless the accounts page shows a lock,
    # and an administrator's unlock (which clears it) ends them all at once.
    return is_locked(account, now) and record.locked_until is not None and record.locked_until > now


def _count_failure(account: StaffAccount, record: AddressRecord, now: datetime) -> bool:
    """Count a wrong password (per account for the record, per address for the lock); lock
    the address at the limit (then True)."""
    if account.first_failed_at is None or now - account.first_failed_at >= FAILURE_WINDOW:
        account.failed_attempts, account.first_failed_at = 0, now
    account.failed_attempts += 1
    if record.failures + 1 < LOCK_AFTER:
        return False
    ends = now + LOCK_DURATION
    account.locked_until = ends if not is_locked(account, now) else max(account.locked_until, ends)
    return True


async def attempt_login(
    *,
    session: AsyncSession,
    settings: Settings,
    email: str,
    password: str,
    ip: str,
    now: datetime | None = None,
) -> LoginAttempt:
    """Check a login and record it (counters, lock, audit). Returns rather than raises on bad
    credentials so that the caller's transaction commits them; ``RateLimited`` past the
    per-IP limit."""
    now = now or utcnow()
    await ratelimit.hit(
        session=session,
        key=f"staff-login-ip:{ip or 'unknown'}",
        limit=ATTEMPTS_PER_IP,
        window=settings.attempt_window,
    )
    account = await session.scalar(
        select(StaffAccount)
        .where(StaffAccount.email == (email or "").strip().lower())
        .with_for_update()
    )
    # Read for an unknown email too (it finds nothing): the same work either way.
    record = await address_record(
        session=session, account_id=account.id if account is not None else 0, ip=ip, now=now
    )
    checked_hash = account.password_hash if account is not None else signing.decoy_hash()
    # Always one verification, even from a locked address: same timing, no oracle.
    matches = await asyncio.to_thread(verify_password, checked_hash, password)
    if account is None:
        reason = "unknown_email"
    elif not account.active:
        reason = "inactive"
    elif _address_locked(account, record, now):
        reason = "locked"
    elif not matches:
        reason = "wrong_password"
    else:
        account.failed_attempts, account.first_failed_at = 0, None
        if not is_locked(account, now):  # other addresses' locks stay
            account.locked_until = None
        account.last_login_at = now
        await audit.record(audit.LOGIN, session=session, staff_id=account.id, ip=ip, at=now)
        return LoginAttempt(account, "ok")
    details: dict[str, object] = {"reason": reason}
    if reason == "wrong_password" and _count_failure(account, record, now):
        details["locked_minutes"] = int(LOCK_DURATION.total_seconds() // 60)
    await audit.record(
        audit.LOGIN_FAILED,
        session=session,
        target_type=TARGET if account is not None else None,
        target_id=account.id if account is not None else None,
        details=details,
        ip=ip,
        at=now,
    )
    return LoginAttempt(None, reason)


async def log_out(*, session: AsyncSession, account_id: int, ip: str | None = None) -> None:
    """End every session of the account (the epoch signed into its cookies changes)."""
    account = await staff_account(session, account_id)
    account.session_epoch = (account.session_epoch or 0) + 1
    await audit.record(audit.LOGOUT, session=session, staff_id=account.id, ip=ip)
