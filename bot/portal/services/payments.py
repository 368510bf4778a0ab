"""Online rent payment: a single-use link to a signed form, and the platform's verdict.

::

    create_payment ──> link /paiement/<token>  (single use, expires)
                          │ open_payment: the signed vads_* form, auto-submitted
                          v
                 payment platform (Systempay; the dev sandbox plays it)
                          │ IPN, server to server, signed
                          v
    apply_notification ──> accepted: balance reduced once, confirmation emailed
                           refused / cancelled / expired: nothing changes but the status

The notification is the only source of truth: the page the tenant comes back to shows what
the notifications recorded and changes nothing. Each notification is checked (signature, shop,
order, transaction id, amount, currency) before anything is written, and a payment is accepted
by a conditional ``UPDATE``, so a repeated or concurrent notification cannot count it twice.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import Conflict, InvalidInput, NotFound
from bot.policy.french_dates import format_french_datetime
from bot.policy.money import format_eur, parse_amount
from bot.portal.models import Account, Lease, Payment, PaymentStatus, utcnow
from bot.portal.models.payment import OPEN_STATUSES
from bot.portal.payments import systempay
from bot.portal.services.balance import leases_of
from bot.portal.services.outbox import enqueue_email
from bot.portal.services.payment_rules import choose_lease, default_amount, status_for
from bot.portal.services.tokens import digest
from bot.settings import Settings

log = logging.getLogger(__name__)

NOTIFICATION_PATH = "/paiement/notification"
RETURN_PATH = "/paiement/retour"


def _loggable(value: str | None) -> str:
    """A notification field made safe for a log line (no injection, bounded)."""
    return re.sub(r"[^A-Za-z0-9_-]", "?", (value or "")[:40]) or "-"


def shop_of(settings: Settings) -> systempay.Shop:
    return systempay.Shop(
        site_id=settings.systempay_site_id, key=settings.systempay_key, mode=settings.systempay_mode
    )


def payment_url(settings: Settings, token: str) -> str:
    return f"{settings.public_base_url}/paiement/{token}"


# --------------------------------------------------------------------------- creating a link


@dataclass(frozen=True)
class IssuedPayment:
    payment: Payment
    lease: Lease
    token: str


async def create_payment(
    *,
    session: AsyncSession,
    settings: Settings,
    household_id: int,
    account_id: int,
    lease_reference: str,
    amount: object,
    conversation_id: str = "",
) -> IssuedPayment:
    """Record a payment of the household's lease and return its single-use link secret.

    ``amount`` as the tenant typed it; ``None`` or ``""`` means the balance due. A newer link
    for the same lease replaces one not yet opened.
    """
    lease = choose_lease(
        await leases_of(session=session, household_id=household_id), lease_reference
    )
    if amount is None or amount == "":
        value = default_amount(lease)
        if value is None:
            raise InvalidInput(
                code="amount_required",
                field="amount",
            )
        value = min(value, settings.payment_max_amount)
    else:
        value = parse_amount(amount, maximum=settings.payment_max_amount)
    now = utcnow()
    await session.execute(
        update(Payment)
        .where(
            Payment.household_id == household_id,
            Payment.lease_id == lease.id,
            Payment.status == PaymentStatus.CREATED,
        )
        .values(status=PaymentStatus.EXPIRED, closed_at=now)
        .execution_options(synchronize_session=False)
    )
    token = secrets.token_urlsafe(32)
    payment = Payment(
        reference=f"LOY-{secrets.token_hex(5).upper()}",
        household_id=household_id,
        lease_id=lease.id,
        account_id=account_id,
        conversation_id=conversation_id or None,
        amount=value,
        status=PaymentStatus.CREATED,
        token_hash=digest(token),
        created_at=now,
        expires_at=now + timedelta(minutes=settings.payment_link_minutes),
    )
    session.add(payment)
    await session.flush()
    payment.trans_id = systempay.trans_id(payment.id)
    await session.flush()
    return IssuedPayment(payment=payment, lease=lease, token=token)


# --------------------------------------------------------------------------- opening the link


@dataclass(frozen=True)
class OpenedLink:
    """Outcome of opening a link; returned, not raised, so an expiry is committed."""

    problem: str = ""  # "token_invalid", "token_used", "token_expired"
    payment: Payment | None = None
    lease: Lease | None = None
    fields: dict[str, str] | None = None


async def open_payment(*, session: AsyncSession, settings: Settings, token: str) -> OpenedLink:
    """Use the link once: mark the payment pending and sign the form for the platform."""
    if not token or len(token) > 200:
        return OpenedLink("token_invalid")
    payment = await session.scalar(select(Payment).where(Payment.token_hash == digest(token)))
    if payment is None:
        return OpenedLink("token_invalid")
    if payment.opened_at is not None:
        return OpenedLink("token_used")
    if payment.status != PaymentStatus.CREATED:
        return OpenedLink("token_invalid")  # replaced by a newer link
    now = utcnow()
    if payment.expires_at <= now:
        await _close(session, payment.id, PaymentStatus.EXPIRED, now, from_statuses=OPEN_STATUSES)
        return OpenedLink("token_expired")
    transaction_date = systempay.trans_date(now)
    claimed = await session.execute(
        update(Payment)
        .where(
            Payment.id == payment.id,
            Payment.opened_at.is_(None),
            Payment.status == PaymentStatus.CREATED,
        )
        .values(opened_at=now, status=PaymentStatus.PENDING, trans_date=transaction_date)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # opened at the same moment by another request
        return OpenedLink("token_used")
    lease = await session.get(Lease, payment.lease_id)
    fields = systempay.payment_form(
        shop=shop_of(settings),
        amount=payment.amount,
        transaction_id=payment.trans_id,
        transaction_date=transaction_date,
        order_id=payment.reference,
        notification_url=settings.public_base_url + NOTIFICATION_PATH,
        return_url=settings.public_base_url + RETURN_PATH,
    )
    return OpenedLink(payment=payment, lease=lease, fields=fields)


async def _close(
    session: AsyncSession,
    payment_id: int,
    status: PaymentStatus,
    now: datetime,
    *,
    from_statuses: tuple[PaymentStatus, ...],
    platform_status: str | None = None,
) -> bool:
    values: dict[str, object] = {"status": status, "closed_at": now}
    if platform_status is not None:
        values["platform_status"] = platform_status
    result = await session.execute(
        update(Payment)
        .where(Payment.id == payment_id, Payment.status.in_(from_statuses))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


# --------------------------------------------------------------------------- notifications


@dataclass(frozen=True)
class NotificationOutcome:
    reference: str
    status: PaymentStatus
    changed: bool


def check_signature(*, settings: Settings, fields: Mapping[str, str], source: str) -> None:
    """``InvalidInput("invalid_signature")``, logged, unless the platform's key signed it."""
    if not systempay.verify(fields, settings.systempay_key):
        log.warning(
            "%s with an invalid signature ignored (trans_id=%s, order=%s)",
            source,
            _loggable(fields.get("vads_trans_id")),
            _loggable(fields.get("vads_order_id")),
        )
        raise InvalidInput(code="invalid_signature")


async def apply_notification(
    *, session: AsyncSession, settings: Settings, fields: Mapping[str, str]
) -> NotificationOutcome:
    """Record the platform's verdict on a payment, exactly once however often it is sent."""
    check_signature(settings=settings, fields=fields, source="payment notification")
    trans = _loggable(fields.get("vads_trans_id"))
    if (
        fields.get("vads_site_id") != settings.systempay_site_id
        or fields.get("vads_ctx_mode") != settings.systempay_mode
    ):
        log.warning("payment notification for another shop or mode ignored (trans_id=%s)", trans)
        raise InvalidInput(code="wrong_shop")
    payment = await session.scalar(
        select(Payment).where(Payment.reference == fields.get("vads_order_id", ""))
    )
    if payment is None:
        log.warning("payment notification for an unknown order ignored (trans_id=%s)", trans)
        raise NotFound(code="payment_not_found")
    expected = {
        "vads_trans_id": payment.trans_id,
        "vads_amount": systempay.amount_in_cents(payment.amount),
        "vads_currency": systempay.CURRENCY_EUR,
    }
    if any(fields.get(name) != value for name, value in expected.items()):
        log.error(
            "signed payment notification does not match payment %s (trans_id=%s)",
            payment.reference,
            trans,
        )
        raise Conflict(code="mismatch")

    platform_status = fields.get("vads_trans_status", "")
    now = utcnow()
    await session.execute(
        update(Payment)
        .where(Payment.id == payment.id)
        .values(
            notification_count=Payment.notification_count + 1,
            last_notified_at=now,
            platform_transaction=fields.get("vads_trans_uuid", "")[:64] or None,
        )
        .execution_options(synchronize_session=False)
    )
    target = status_for(platform_status)
    if target == PaymentStatus.ACCEPTED:
        changed = await _accept(session, payment, platform_status, now)
    elif target == PaymentStatus.PENDING:
        changed = False
    else:
        # A verdict never undoes an accepted payment: the money was taken.
        changed = await _close(
            session,
            payment.id,
            target,
            now,
            from_statuses=OPEN_STATUSES,
            platform_status=platform_status,
        )
    log.info(
        "payment %s notified %s (trans_id=%s, changed=%s)",
        payment.reference,
        _loggable(platform_status),
        trans,
        changed,
    )
    current = await session.scalar(select(Payment.status).where(Payment.id == payment.id))
    return NotificationOutcome(reference=payment.reference, status=current, changed=changed)


async def _accept(
    session: AsyncSession, payment: Payment, platform_status: str, now: datetime
) -> bool:
    """Accept once (even after a refusal: an authorisation means money taken), then credit."""
    accepted = await session.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.status != PaymentStatus.ACCEPTED)
        .values(
            status=PaymentStatus.ACCEPTED,
            paid_at=now,
            closed_at=now,
            platform_status=platform_status,
        )
        .execution_options(synchronize_session=False)
    )
    if accepted.rowcount != 1:
        return False
    # Relative update in SQL: correct even if the balance changed since it was read. A payment
    # larger than the balance leaves a credit (negative balance) rather than losing money.
    await session.execute(
        update(Lease)
        .where(Lease.id == payment.lease_id)
        .values(balance_due=Lease.balance_due - payment.amount)
        .execution_options(synchronize_session=False)
    )
    await _email_confirmation(session, payment, now)
    return True


async def _email_confirmation(session: AsyncSession, payment: Payment, now: datetime) -> None:
    account = await session.get(Account, payment.account_id)
    lease = await session.scalar(select(Lease).where(Lease.id == payment.lease_id))
    balance = await session.scalar(select(Lease.balance_due).where(Lease.id == payment.lease_id))
    if account is None or lease is None or balance is None:
        return
    await enqueue_email(
        session=session,
        to=account.email,
        template="payment_confirmed",
        amount=format_eur(payment.amount),
        lease_label=lease.label,
        lease_reference=lease.reference,
        reference=payment.reference,
        paid_on=format_french_datetime(now),
        balance_due=format_eur(balance) if balance > 0 else None,
        credit=format_eur(-balance) if balance < 0 else None,
    )


# --------------------------------------------------------------------------- the return page


@dataclass(frozen=True)
class ReturnView:
    payment: Payment | None
    lease: Lease | None
    #: What the platform told the browser (signed), while the notification may still be on
    #: its way: "accepted", "refused", "cancelled" or "" when unknown.
    announced: str = ""


async def return_view(
    *, session: AsyncSession, settings: Settings, fields: Mapping[str, str]
) -> ReturnView:
    """What to show the tenant coming back from the platform; reads only."""
    if not fields or not systempay.verify(fields, settings.systempay_key):
        if fields:
            log.warning(
                "payment return with an invalid signature (trans_id=%s)",
                _loggable(fields.get("vads_trans_id")),
            )
        return ReturnView(None, None)
    payment = await session.scalar(
        select(Payment).where(Payment.reference == fields.get("vads_order_id", ""))
    )
    if payment is None:
        return ReturnView(None, None)
    lease = await session.get(Lease, payment.lease_id)
    announced = status_for(fields.get("vads_trans_status", ""))
    return ReturnView(payment, lease, "" if announced == PaymentStatus.PENDING else announced.value)
