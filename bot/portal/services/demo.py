"""The demo households of DESIGN.md, loaded into an empty database (run command and tests).

Demo accounts get a random, unknown password: testers use "mot de passe oublié" and the dev
mailbox, exactly like a tenant would.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.portal.models import Account, AccountStatus, Household, Lease, utcnow
from bot.portal.services.passwords import hash_password
from bot.portal.services.rules import surname_key


def _household(number: str, surname: str, move_out: date | None = None) -> Household:
    return Household(
        client_number=number,
        signatory_surname=surname,
        signatory_key=surname_key(surname),
        move_out_date=move_out,
    )


def _lease(reference: str, label: str, rent: str, due: str = "0.00", day: int | None = None):
    return Lease(
        reference=reference,
        label=label,
        monthly_rent=Decimal(rent),
        balance_due=Decimal(due),
        direct_debit_day=day,
    )


def _account(email: str, status: AccountStatus) -> Account:
    now = utcnow()
    return Account(
        email=email,
        status=status,
        password_hash=None
        if status == AccountStatus.PENDING
        else hash_password(secrets.token_urlsafe(24)),
        created_at=now - timedelta(days=400),
        activated_at=None if status == AccountStatus.PENDING else now - timedelta(days=399),
        closed_at=now - timedelta(days=20) if status == AccountStatus.DEACTIVATED else None,
    )


async def load_demo_data(*, session: AsyncSession, today: date) -> bool:
    """Insert the demo households when there are none; return whether anything was loaded."""
    if await session.scalar(select(func.count()).select_from(Household)):
        return False

    martin = _household("12345678", "Martin")
    martin.leases = [_lease("BAIL-12345678-1", "Logement", "540.00")]

    dupont = _household("87654321", "Dupont")
    dupont.leases = [_lease("BAIL-87654321-1", "Logement", "412.50", due="412.50")]
    dupont.accounts = [_account("claire.dupont@example.org", AccountStatus.ACTIVE)]

    nguyen = _household("11223344", "Nguyen")
    nguyen.leases = [
        _lease("BAIL-11223344-1", "Appartement", "498.00", day=7),
        _lease("BAIL-11223344-2", "Parking", "45.00", day=7),
    ]
    nguyen.accounts = [_account("minh.nguyen@example.org", AccountStatus.ACTIVE)]

    schmitt = _household("55667788", "Schmitt")
    schmitt.leases = [_lease("BAIL-55667788-1", "Logement", "610.00")]
    schmitt.accounts = [_account("j.schmitt@example.org", AccountStatus.PENDING)]

    weber = _household("99887766", "Weber", move_out=today - relativedelta(months=7))
    weber.leases = [_lease("BAIL-99887766-1", "Logement", "575.00")]
    weber.accounts = [_account("weber@example.org", AccountStatus.DEACTIVATED)]

    session.add_all([martin, dupont, nguyen, schmitt, weber])
    await session.flush()
    return True
