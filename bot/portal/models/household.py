"""Households (one per client number) and their leases."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Column, Date, ForeignKey, Integer, String
from sqlalchemy.orm import relationship

from bot.portal.models.base import Base, Money


class Household(Base):
    __tablename__ = "households"

    id = Column(Integer, primary_key=True)
    client_number = Column(String(8), unique=True, nullable=False, index=True)
    signatory_surname = Column(String(120), nullable=False)
    # Normalised (lower case, no accents, no spaces) so the tenant's spelling need not be exact.
    signatory_key = Column(String(120), nullable=False)
    move_out_date: date | None = Column(Date, nullable=True)
    # Postal address of the home, prefilled on forms such as the SEPA mandate.
    address = Column(String(300), nullable=True)

    leases = relationship("Lease", back_populates="household", order_by="Lease.id")
    accounts = relationship("Account", back_populates="household")


class Lease(Base):
    __tablename__ = "leases"

    id = Column(Integer, primary_key=True)
    household_id = Column(Integer, ForeignKey("households.id"), nullable=False, index=True)
    reference = Column(String(32), unique=True, nullable=False)
    label = Column(String(120), nullable=False)
    monthly_rent: Decimal = Column(Money, nullable=False)
    balance_due: Decimal = Column(Money, nullable=False, default=Decimal("0.00"))
    direct_debit_day = Column(Integer, nullable=True)

    household = relationship("Household", back_populates="leases")
