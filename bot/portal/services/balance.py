"""What a verified household may read about its rent: leases, rent and balance due."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.portal.models import Lease


async def leases_of(*, session: AsyncSession, household_id: int) -> list[Lease]:
    return list(
        (
            await session.scalars(
                select(Lease).where(Lease.household_id == household_id).order_by(Lease.id)
            )
        ).all()
    )


def total_due(leases: list[Lease]) -> Decimal:
    return sum((lease.balance_due for lease in leases), Decimal("0.00"))
