"""Pure rules of online payment: the lease paid, platform statuses (amounts as tenants type
them are ``bot.policy.money``, shared with the chat's form validation). No I/O."""

from __future__ import annotations

from decimal import Decimal

from bot.errors import InvalidInput, NotFound
from bot.portal.models import Lease, PaymentStatus
from bot.portal.payments import systempay


def choose_lease(leases: list[Lease], reference: str) -> Lease:
    """The household's lease named by ``reference``; the only one when none is named."""
    if not reference:
        if len(leases) == 1:
            return leases[0]
        raise InvalidInput(code="lease_required", field="lease")
    wanted = reference.strip().upper()
    for lease in leases:
        if lease.reference.upper() == wanted:
            return lease
    # Same answer whether the lease exists for another household or not at all.
    raise NotFound(code="lease_not_found")


def default_amount(lease: Lease) -> Decimal | None:
    """What the tenant is offered to pay: the balance due, when there is one."""
    return lease.balance_due if lease.balance_due > 0 else None


def status_for(platform_status: str) -> PaymentStatus:
    """Our status for a ``vads_trans_status``; anything not final leaves the payment pending."""
    if platform_status in systempay.ACCEPTED_STATUSES:
        return PaymentStatus.ACCEPTED
    if platform_status in systempay.REFUSED_STATUSES:
        return PaymentStatus.REFUSED
    if platform_status in systempay.CANCELLED_STATUSES:
        return PaymentStatus.CANCELLED
    if platform_status in systempay.EXPIRED_STATUSES:
        return PaymentStatus.EXPIRED
    return PaymentStatus.PENDING
