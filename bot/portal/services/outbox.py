"""Emails are queued in the transaction that causes them, then delivered with retries.

A crash between the change and the delivery loses nothing: the row stays until the SMTP relay
accepts it. Failed attempts back off exponentially up to ``outbox_max_attempts``.

Nothing secret outlives the delivery: while an email waits, its body (codes, links with
one-time tokens) and attachments (a mandate with the IBAN) are encrypted (``OutboxEmail``);
once the relay accepts it, or it is given up on, both are emptied in the same commit that
records the outcome. Recipient, subject, template and dates stay, for audit.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload, sessionmaker

from bot.portal.models import OutboxAttachment, OutboxEmail, utcnow
from bot.portal.templating import render_email

log = logging.getLogger(__name__)

SendFunction = Callable[[OutboxEmail], Awaitable[None]]

#: An email attachment: file name, MIME type ("application/pdf"), content.
Attachment = tuple[str, str, bytes]


async def enqueue_email(
    *,
    session: AsyncSession,
    to: str,
    template: str,
    attachments: Sequence[Attachment] = (),
    **context: object,
) -> OutboxEmail:
    subject, body = render_email(template, **context)
    email = OutboxEmail(to_address=to, subject=subject, text_body=body, template=template)
    email.attachments = [
        OutboxAttachment(filename=filename, content_type=content_type, data=data)
        for filename, content_type, data in attachments
    ]
    session.add(email)
    await session.flush()
    return email


def retry_delay(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s ... capped at 30 minutes."""
    return timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 1800))


async def deliver_due(
    *, sessions: sessionmaker, send: SendFunction, max_attempts: int, batch: int = 20
) -> int:
    """Send the emails that are due; return how many were accepted by the relay."""
    async with sessions() as session:
        due = (
            await session.scalars(
                select(OutboxEmail)
                .where(
                    OutboxEmail.sent_at.is_(None),
                    OutboxEmail.failed_at.is_(None),
                    OutboxEmail.next_attempt_at <= utcnow(),
                )
                .order_by(OutboxEmail.id)
                .limit(batch)
                .options(selectinload(OutboxEmail.attachments))
            )
        ).all()
        sent = 0
        for email in due:
            email.attempts += 1
            try:
                await send(email)
            except Exception as error:  # noqa: BLE001 - any relay failure means "retry later"
                email.last_error = f"{type(error).__name__}: {error}"[:500]
                if email.attempts >= max_attempts:
                    email.failed_at = utcnow()
                    log.error("email %s abandoned after %s attempts", email.id, email.attempts)
                else:
                    email.next_attempt_at = utcnow() + retry_delay(email.attempts)
                    log.warning("email %s not delivered (attempt %s)", email.id, email.attempts)
            else:
                email.sent_at = utcnow()
                email.last_error = None
                sent += 1
            if email.sent_at or email.failed_at:
                _clear_contents(email)
            await session.commit()
        return sent


def _clear_contents(email: OutboxEmail) -> None:
    """Empty the body and the attachments' bytes (loaded with the email) of a finished email;
    the attachments' names and types stay: what was sent."""
    email.text_body = ""
    for attachment in email.attachments:
        attachment.data = b""
