"""Delivery of outbox emails through an SMTP relay with aiosmtplib."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib

from bot.portal.models import OutboxEmail
from bot.settings import Settings


def build_message(email: OutboxEmail, *, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.to_address
    message["Subject"] = email.subject
    # A stable id lets the relay (and the tenant's client) spot a retried duplicate.
    message["Message-ID"] = make_msgid(idstring=f"outbox-{email.id}")
    message.set_content(email.text_body)
    return message


class SmtpSender:
    """Callable handed to the outbox worker; one connection per email keeps failures isolated."""

    def __init__(self, settings: Settings, *, timeout: float = 10.0):
        self._settings = settings
        self._timeout = timeout

    async def __call__(self, email: OutboxEmail) -> None:
        settings = self._settings
        await aiosmtplib.send(
            build_message(email, sender=settings.mail_from),
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=settings.smtp_password or None,
            start_tls=settings.smtp_starttls,
            timeout=self._timeout,
        )
