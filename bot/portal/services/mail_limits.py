"""How many emails with a code or a link one address may receive, and the same work for every
input whether it matches an account or not.

The anonymous routes (registration, activation resend, password reset, identifier reminder,
verification code) email an address somebody typed, or the account's own; so do the verified
identifier and password changes. Each such email is counted per recipient (a SHA-256 of the
lowercased address, never the address) in the windows of ``WINDOWS``; past a limit the
email is silently not sent. The caller's answer stays the same, so a refusal tells nothing,
and nothing is revoked: the link sent last keeps working.

Inputs that match nobody are counted too, under the address typed (or, with no address, the
client number), and the path that sends nothing, for want of an account or past a limit, does
the work of the path that sends: ``shadow_token`` and ``shadow_email`` run the same statements,
random token, hashing, template rendering and encryption on rows that cannot exist, and write
nothing. Neither the answer nor its timing tells known inputs from unknown ones.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import false, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.policy.landlord import EMAILS_PER_ADDRESS, Limit
from bot.portal.models import Account, OneTimeToken, OutboxEmail, TokenPurpose, utcnow
from bot.portal.services import ratelimit
from bot.portal.services.outbox import enqueue_email
from bot.portal.services.tokens import digest, issue_token
from bot.portal.templating import render_email
from bot.settings import Settings

#: The windows emails to one recipient are counted in, shortest first (the landlord's
#: ``EMAILS_PER_ADDRESS``); how many each allows comes from the settings
#: (``MAIL_LIMIT_PER_QUARTER_HOUR`` and ``MAIL_LIMIT_PER_DAY``, defaults from the same limits).
WINDOWS: tuple[timedelta, ...] = tuple(limit.window for limit in EMAILS_PER_ADDRESS)


def per_address(settings: Settings) -> tuple[Limit, ...]:
    """(emails, window) for one recipient, shortest window first."""
    return settings.emails_per_address


#: No account, household or token has this id (they start at 1): shadow statements match nothing.
NO_ID = -1


def recipient_keys(recipient: str) -> list[str]:
    """The counter keys of ``recipient``, one per window of ``WINDOWS``."""
    hashed = hashlib.sha256(recipient.strip().lower().encode()).hexdigest()
    return [f"email:{hashed}:{int(window.total_seconds())}s" for window in WINDOWS]


async def may_email(*, session: AsyncSession, settings: Settings, recipient: str) -> bool:
    """Count one email to ``recipient`` (an address, or what stands for an input that reaches
    nobody); ``False`` once a window of ``per_address(settings)`` is full.

    A statement runs for every window each time, so a refusal costs what an acceptance does;
    past a full window the longer ones are asked with a limit of 0, which counts nothing: a
    flood within a quarter of an hour does not use up the day's emails.
    """
    allowed = True
    limits = per_address(settings)
    for key, (limit, window) in zip(recipient_keys(recipient), limits, strict=True):
        taken = await ratelimit.take(
            session=session, key=key, limit=limit if allowed else 0, window=window
        )
        allowed = allowed and taken
    return allowed


async def email_within_limits(
    *,
    session: AsyncSession,
    settings: Settings,
    recipient: str,
    reaches_someone: bool,
    template: str,
    **context: object,
) -> None:
    """Count one email to ``recipient``; queue it if it reaches someone and the address is
    within its limits, otherwise do the same work (``shadow_email``) and send nothing."""
    allowed = await may_email(session=session, settings=settings, recipient=recipient)
    send = enqueue_email if allowed and reaches_someone else shadow_email
    await send(session=session, to=recipient, template=template, **context)


async def email_link(
    *,
    session: AsyncSession,
    account: Account | None,
    to: str,
    purpose: TokenPurpose,
    ttl: timedelta,
    template: str,
    url: str,
    **context: object,
) -> None:
    """Issue a single-use ``purpose`` token for ``account`` (earlier ones are revoked) and queue
    ``template`` to ``to`` with ``link``, ``url`` carrying the token; with no account, the same
    work (``shadow_token``, ``shadow_email``), sending nothing and revoking nothing."""
    if account is None:
        raw = await shadow_token(session=session, purpose=purpose)
        send = shadow_email
    else:
        raw = await issue_token(session=session, account=account, purpose=purpose, ttl=ttl)
        send = enqueue_email
    await send(session=session, to=to, template=template, link=f"{url}?jeton={raw}", **context)


async def shadow_token(*, session: AsyncSession, purpose: TokenPurpose) -> str:
    """What ``tokens.issue_token`` does, for no account: the revoking UPDATE (no row matches),
    a random token and its digest, an INSERT of no row. Returns the token, for a shadow link."""
    now = utcnow()
    await session.execute(
        update(OneTimeToken)
        .where(
            OneTimeToken.account_id == NO_ID,
            OneTimeToken.purpose == purpose,
            OneTimeToken.used_at.is_(None),
            OneTimeToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    raw = secrets.token_urlsafe(32)
    await _insert_nothing(
        session,
        OneTimeToken,
        account_id=NO_ID,
        purpose=purpose,
        token_hash=digest(raw),
        created_at=now,
        expires_at=now,
    )
    return raw


async def shadow_email(*, session: AsyncSession, to: str, template: str, **context: object) -> None:
    """What ``outbox.enqueue_email`` does, sending nothing: the email is rendered, its columns
    bound (and encrypted) as for a real row, and the INSERT inserts no row."""
    subject, body = render_email(template, **context)
    await _insert_nothing(
        session, OutboxEmail, to_address=to, subject=subject, text_body=body, template=template
    )


async def _insert_nothing(session: AsyncSession, model: Any, **values: object) -> None:
    """``INSERT INTO <table> (...) SELECT <values> WHERE false``: bound with the columns' own
    types (so with their processing), executed, and no row written."""
    columns = model.__table__.c
    row = select(*(literal(value, columns[name].type) for name, value in values.items()))
    await session.execute(insert(model).from_select(list(values), row.where(false())))
