"""The demo households of DESIGN.md, loaded into an empty database (run command and tests).

Demo accounts get a random, unknown password: testers use "mot de passe oublié" and the dev
mailbox, exactly like a tenant would. The postal addresses are fictitious.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.policy.rules import surname_key
from bot.portal.models import (
    Account,
    AccountStatus,
    CertificateStatus,
    Household,
    InsuranceCertificate,
    Lease,
    utcnow,
)
from bot.portal.services.passwords import hash_password


def _household(number: str, surname: str, address: str, move_out: date | None = None) -> Household:
    return Household(
        client_number=number,
        signatory_surname=surname,
        signatory_key=surname_key(surname),
        address=address,
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


def _certificate(
    household_id: int, insurer: str, policy: str, valid_until: date
) -> InsuranceCertificate:
    return InsuranceCertificate(
        household_id=household_id,
        insurer=insurer,
        policy_number=policy,
        valid_until=valid_until,
        status=CertificateStatus.CURRENT,
    )


async def load_demo_data(*, session: AsyncSession, today: date) -> bool:
    """Insert the demo households when there are none; return whether anything was loaded."""
    if await session.scalar(select(func.count()).select_from(Household)):
        return False

    martin = _household("12345678", "Martin", "12 rue des Lilas, 67100 Strasbourg")
    martin.leases = [_lease("BAIL-12345678-1", "Logement", "540.00")]

    dupont = _household("87654321", "Dupont", "3 rue des Tilleuls, 67000 Strasbourg")
    dupont.leases = [_lease("BAIL-87654321-1", "Logement", "412.50", due="412.50")]
    dupont.accounts = [_account("claire.dupont@example.org", AccountStatus.ACTIVE)]

    nguyen = _household("11223344", "Nguyen", "8 allée des Peupliers, 67200 Strasbourg")
    nguyen.leases = [
        _lease("BAIL-11223344-1", "Appartement", "498.00", day=7),
        _lease("BAIL-11223344-2", "Parking", "45.00", day=7),
    ]
    nguyen.accounts = [_account("minh.nguyen@example.org", AccountStatus.ACTIVE)]

    schmitt = _household("55667788", "Schmitt", "21 rue du Verger, 67300 Schiltigheim")
    schmitt.leases = [_lease("BAIL-55667788-1", "Logement", "610.00")]
    schmitt.accounts = [_account("j.schmitt@example.org", AccountStatus.PENDING)]

    weber = _household(
        "99887766",
        "Weber",
        "5 place des Érables, 67400 Illkirch-Graffenstaden",
        move_out=today - relativedelta(months=7),
    )
    weber.leases = [_lease("BAIL-99887766-1", "Logement", "575.00")]
    weber.accounts = [_account("weber@example.org", AccountStatus.DEACTIVATED)]

    session.add_all([martin, dupont, nguyen, schmitt, weber])
    await session.flush()
    # Home insurance on file (fictitious policies): Dupont's expires in 10 days.
    session.add_all(
        [
            _certificate(dupont.id, "MAIF", "P-000123", today + timedelta(days=10)),
            _certificate(nguyen.id, "MACIF", "P-000456", today + relativedelta(years=1)),
        ]
    )
    await session.flush()
    return True
