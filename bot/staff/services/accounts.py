"""Staff accounts: creation, roles, deactivation, unlocking (logging in and out, with the
lock-out, is ``staff_login.py``).

Every change writes its audit entry in the same transaction (``audit.record``), whether it
comes from the console or from the operator's CLI (``actor_id=None``).
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import Conflict, InvalidInput
from bot.policy.rules import check_password, normalise_email
from bot.portal.models import StaffAccount, StaffRole, utcnow
from bot.portal.services.passwords import hash_password
from bot.staff.errors import LastAdmin, StaffEmailTaken, StaffNotAllowed, StaffNotFound
from bot.staff.services import audit

NAME_MAX_LENGTH = 120
TARGET = "staff_account"


# --------------------------------------------------------------------------- input rules


def normalise_display_name(raw: str) -> str:
    name = " ".join((raw or "").split())
    if not name or len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(
            code="invalid_display_name", field="display_name", maximum=NAME_MAX_LENGTH
        )
    return name


def parse_role(raw: str | StaffRole) -> StaffRole:
    try:
        return StaffRole(raw)
    except ValueError as error:
        raise InvalidInput(code="invalid_role", field="role") from error


# --------------------------------------------------------------------------- helpers


async def staff_account(session: AsyncSession, account_id: int) -> StaffAccount:
    """The staff account ``account_id``, locked for this transaction; ``StaffNotFound``."""
    account = await session.get(StaffAccount, account_id, with_for_update=True)
    if account is None:
        raise StaffNotFound()
    return account


async def _admin(session: AsyncSession, actor_id: int) -> StaffAccount:
    """The acting administrator, read in this transaction: a stale role grants nothing."""
    actor = await session.get(StaffAccount, actor_id)
    if actor is None or not actor.active or actor.role != StaffRole.ADMIN:
        raise StaffNotAllowed()
    return actor


async def _active_admins(session: AsyncSession) -> int:
    # Rows locked, not counted: two admins demoting each other at once are serialised, and
    # the second sees that only one admin is left.
    ids = await session.scalars(
        select(StaffAccount.id)
        .where(StaffAccount.role == StaffRole.ADMIN, StaffAccount.active.is_(True))
        .with_for_update()
    )
    return len(ids.all())


async def _refuse_if_last_admin(session: AsyncSession, account: StaffAccount) -> None:
    if account.role == StaffRole.ADMIN and account.active and await _active_admins(session) <= 1:
        raise LastAdmin()


def _not_yourself(actor: StaffAccount, account: StaffAccount) -> None:
    if actor.id == account.id:
        raise Conflict(code="own_staff_account")


# --------------------------------------------------------------------------- accounts


async def create_staff_account(
    *,
    session: AsyncSession,
    email: str,
    display_name: str,
    role: StaffRole | str,
    password: str,
    actor_id: int | None,
    ip: str | None = None,
) -> StaffAccount:
    """Create an active account; ``actor_id=None`` is the operator's CLI, else an admin.

    Raises ``InvalidInput`` (email, name, role, the tenants' password rules),
    ``StaffEmailTaken`` or ``StaffNotAllowed``.
    """
    if actor_id is not None:
        await _admin(session, actor_id)
    email = normalise_email(email)
    name = normalise_display_name(display_name)
    staff_role = parse_role(role)
    check_password(password, email=email)
    if await session.scalar(select(StaffAccount.id).where(StaffAccount.email == email)):
        raise StaffEmailTaken()
    account = StaffAccount(
        email=email,
        display_name=name,
        role=staff_role,
        password_hash=await asyncio.to_thread(hash_password, password),
        active=True,
        failed_attempts=0,
        session_epoch=0,
        created_at=utcnow(),
    )
    session.add(account)
    await session.flush()
    await _record_change(
        session,
        audit.STAFF_CREATED,
        actor_id,
        account,
        ip,
        details={"role": staff_role.value, "via": "console" if actor_id else "cli"},
    )
    return account


async def list_staff(*, session: AsyncSession) -> list[StaffAccount]:
    """Active accounts first, then by name."""
    query = select(StaffAccount).order_by(
        StaffAccount.active.desc(), StaffAccount.display_name, StaffAccount.id
    )
    return list(await session.scalars(query))


async def set_active(
    *, session: AsyncSession, actor_id: int, account_id: int, active: bool, ip: str | None = None
) -> StaffAccount:
    """Deactivate (ending its sessions) or reactivate (unlocked) an account; admins only."""
    actor = await _admin(session, actor_id)
    account = await staff_account(session, account_id)
    _not_yourself(actor, account)
    if account.active == active:
        return account
    if not active:
        await _refuse_if_last_admin(session, account)
        account.session_epoch = (account.session_epoch or 0) + 1
    else:
        account.failed_attempts, account.first_failed_at, account.locked_until = 0, None, None
    account.active = active
    action = audit.STAFF_REACTIVATED if active else audit.STAFF_DEACTIVATED
    await _record_change(session, action, actor.id, account, ip)
    return account


async def unlock(
    *, session: AsyncSession, actor_id: int, account_id: int, ip: str | None = None
) -> StaffAccount:
    """Lift a lock-out before it ends (the staff member called an admin); admins only."""
    actor = await _admin(session, actor_id)
    account = await staff_account(session, account_id)
    _not_yourself(actor, account)
    if account.locked_until is None and not account.failed_attempts:
        return account
    account.failed_attempts, account.first_failed_at, account.locked_until = 0, None, None
    await _record_change(session, audit.STAFF_UNLOCKED, actor.id, account, ip)
    return account


async def change_role(
    *,
    session: AsyncSession,
    actor_id: int,
    account_id: int,
    role: StaffRole | str,
    ip: str | None = None,
) -> StaffAccount:
    """Make an account an agent or an administrator; admins only, never the last admin."""
    actor = await _admin(session, actor_id)
    new_role = parse_role(role)
    account = await staff_account(session, account_id)
    _not_yourself(actor, account)
    if account.role == new_role:
        return account
    if new_role != StaffRole.ADMIN:
        await _refuse_if_last_admin(session, account)
    old_role, account.role = account.role, new_role
    await _record_change(
        session,
        audit.STAFF_ROLE_CHANGED,
        actor.id,
        account,
        ip,
        details={"from": old_role.value, "to": new_role.value},
    )
    return account


async def _record_change(
    session: AsyncSession,
    action: str,
    actor_id: int | None,
    account: StaffAccount,
    ip: str | None,
    *,
    details: dict[str, object] | None = None,
) -> None:
    """The audit entry of an administrator's change to a staff account (``None``: the CLI)."""
    await audit.record(
        action,
        session=session,
        staff_id=actor_id,
        target_type=TARGET,
        target_id=account.id,
        details=details,
        ip=ip,
    )
