"""The email outbox: nothing accepted is lost when the SMTP relay is down, and nothing is sent
twice once it is back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import sessionmaker

from bot.mail.sink import start_smtp_sink
from bot.portal.models import OutboxEmail, utcnow
from bot.portal.services.outbox import deliver_due, enqueue_email, retry_delay
from tests.portal.support import MARTIN, Mailbox, Portal, eventually, outbox


class Relay:
    """A fake SMTP relay recording what it accepts; ``down`` makes it refuse everything."""

    def __init__(self, *, down: bool = False) -> None:
        self.down = down
        self.accepted: list[str] = []

    async def __call__(self, email: OutboxEmail) -> None:
        if self.down:
            raise ConnectionRefusedError("relay down")
        self.accepted.append(email.to_address)


async def _queue(sessions: sessionmaker, *addresses: str) -> None:
    async with sessions.begin() as session:
        for address in addresses:
            await enqueue_email(
                session=session, to=address, template="password_changed", portal_url="http://x"
            )


async def _make_due(sessions: sessionmaker) -> None:
    """Pretend the retry delay has passed."""
    async with sessions.begin() as session:
        await session.execute(update(OutboxEmail).values(next_attempt_at=utcnow()))


@pytest.mark.parametrize(
    ("attempts", "seconds"), [(1, 5), (2, 10), (3, 20), (4, 40), (8, 640), (9, 900), (500, 900)]
)
def test_retries_back_off_up_to_fifteen_minutes(attempts: int, seconds: int) -> None:
    assert retry_delay(attempts) == timedelta(seconds=seconds)


def test_the_back_off_cap_is_configurable() -> None:
    assert retry_delay(9, timedelta(minutes=30)) == timedelta(seconds=1280)
    assert retry_delay(10, timedelta(minutes=30)) == timedelta(minutes=30)


async def test_email_is_rendered_from_its_template(sessions: sessionmaker) -> None:
    await _queue(sessions, "claire.dupont@example.org")

    (email,) = await outbox(sessions)
    assert email.subject == "Votre mot de passe a été modifié"
    assert email.text_body.startswith("Bonjour,")
    assert "http://x" in email.text_body
    assert (email.attempts, email.sent_at) == (0, None)


async def test_due_emails_are_sent_once_in_order(sessions: sessionmaker) -> None:
    await _queue(sessions, "a@example.org", "b@example.org")
    relay = Relay()

    sent = await deliver_due(sessions=sessions, send=relay, max_attempts=3)
    again = await deliver_due(sessions=sessions, send=relay, max_attempts=3)

    assert (sent, again) == (2, 0)
    assert relay.accepted == ["a@example.org", "b@example.org"]
    assert all(email.sent_at and email.attempts == 1 for email in await outbox(sessions))


async def test_refused_email_stays_queued_and_is_retried_later(sessions: sessionmaker) -> None:
    await _queue(sessions, "a@example.org")
    relay = Relay(down=True)

    assert await deliver_due(sessions=sessions, send=relay, max_attempts=3) == 0

    (email,) = await outbox(sessions)
    assert (email.attempts, email.sent_at, email.failed_at) == (1, None, None)
    assert email.last_error == "ConnectionRefusedError: relay down"
    assert email.next_attempt_at - utcnow() > timedelta(seconds=4)
    relay.down = False
    assert await deliver_due(sessions=sessions, send=relay, max_attempts=3) == 0  # not yet due
    await _make_due(sessions)
    assert await deliver_due(sessions=sessions, send=relay, max_attempts=3) == 1
    (email,) = await outbox(sessions)
    assert (email.attempts, email.last_error) == (2, None)
    assert email.sent_at is not None
    assert relay.accepted == ["a@example.org"]


async def test_a_caller_may_still_bound_the_attempts(sessions: sessionmaker) -> None:
    await _queue(sessions, "a@example.org")
    relay = Relay(down=True)

    for _ in range(3):
        await deliver_due(sessions=sessions, send=relay, max_attempts=3)
        await _make_due(sessions)

    (email,) = await outbox(sessions)
    assert (email.attempts, email.sent_at) == (3, None)
    assert email.failed_at is not None
    relay.down = False
    assert await deliver_due(sessions=sessions, send=relay, max_attempts=3) == 0
    assert relay.accepted == []


async def test_one_refused_email_does_not_hold_back_the_others(sessions: sessionmaker) -> None:
    await _queue(sessions, "refused@example.org", "b@example.org")

    async def picky(email: OutboxEmail) -> None:
        if email.to_address.startswith("refused"):
            raise OSError("mailbox unavailable")

    assert await deliver_due(sessions=sessions, send=picky, max_attempts=3) == 1
    refused, delivered = await outbox(sessions)
    assert refused.sent_at is None and refused.attempts == 1
    assert delivered.sent_at is not None


async def test_portal_keeps_emails_while_smtp_is_down_then_delivers_them_once(
    portal: Portal,
) -> None:
    """The SMTP server only starts halfway: the activation email waits, retried, then arrives."""

    async def attempted(times: int) -> OutboxEmail | None:
        emails = await outbox(portal.sessions)
        return emails[0] if emails and emails[0].attempts >= times else None

    assert (await portal.api("/api/v1/registrations", MARTIN)).status_code == 202
    first = await eventually(lambda: attempted(1), what="first delivery attempt")
    assert first.sent_at is None and first.last_error.startswith("SMTPConnectError")
    assert first.next_attempt_at > utcnow()

    await _make_due(portal.sessions)
    await portal.deliver_now()
    second = await eventually(lambda: attempted(2), what="second delivery attempt")
    assert second.sent_at is None
    assert second.next_attempt_at - first.next_attempt_at >= timedelta(seconds=4)

    sink = start_smtp_sink(
        portal.settings.smtp_host, portal.settings.smtp_port, portal.settings.mailbox_dir
    )
    try:
        mailbox = Mailbox(portal.settings.mailbox_dir)
        await _make_due(portal.sessions)
        await portal.deliver_now()
        email = await mailbox.wait_for(to=MARTIN["email"], subject="Activez")
        assert "/compte/activer?jeton=" in email.links[0]
        (row,) = await eventually(
            lambda: _all_sent(portal.sessions), what="outbox row marked as sent"
        )
        assert row.attempts == 3
        # Nothing is left to send: another round delivers nothing twice.
        await _make_due(portal.sessions)
        relay = Relay()
        assert await deliver_due(sessions=portal.sessions, send=relay, max_attempts=8) == 0
        assert len(mailbox.emails()) == 1
    finally:
        sink.stop()


async def _all_sent(sessions: sessionmaker) -> list[OutboxEmail]:
    emails = await outbox(sessions)
    return emails if all(email.sent_at for email in emails) else []
