"""Delivery of outbox emails through an SMTP relay with aiosmtplib."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import parseaddr

import aiosmtplib

from bot.portal.models import OutboxEmail
from bot.portal.services.outbox import Undeliverable
from bot.settings import Settings

#: Replies to RCPT meaning the mailbox does not exist or is not accepted, for good (RFC 5321);
#: anything else (4xx, a refused sender or login: the relay's set-up) is retried.
PERMANENT_RECIPIENT_CODES = frozenset({550, 551, 553})


def build_message(email: OutboxEmail, *, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.to_address
    message["Subject"] = email.subject
    # A stable id lets the relay (and the tenant's client) spot a retried duplicate; make_msgid
    # would add a random part and give each retry of the same email a different id.
    created = email.created_at.strftime("%Y%m%d%H%M%S%f") if email.created_at else "0"
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = f"<outbox-{email.id}.{created}@{domain}>"
    message.set_content(email.text_body)
    # Loaded by the outbox with the email (async sessions cannot lazy-load).
    for attachment in email.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return message


class SmtpSender:
    """Callable handed to the outbox worker; one connection per email keeps failures isolated."""

    def __init__(self, settings: Settings, *, timeout: float = 10.0):
        self._settings = settings
        self._timeout = timeout

    async def __call__(self, email: OutboxEmail) -> None:
        settings = self._settings
        try:
            await aiosmtplib.send(
                build_message(email, sender=settings.mail_from),
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username or None,
                password=settings.smtp_password or None,
                start_tls=settings.smtp_starttls,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            if refused_for_good(error):
                raise Undeliverable(f"recipient refused: {error.recipients[0].code}") from error
            raise


def refused_for_good(error: aiosmtplib.SMTPRecipientsRefused) -> bool:
    """Whether the relay refused every recipient with a permanent code: the outbox then gives
    up at once instead of retrying an address that does not exist for a day."""
    codes = {refusal.code for refusal in error.recipients}
    return bool(codes) and codes <= PERMANENT_RECIPIENT_CODES
