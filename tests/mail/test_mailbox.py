"""Email transport: what the SMTP sender sends is what the dev Maildir reader shows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.mail.mailbox import read_mailbox
from bot.mail.sink import start_smtp_sink
from bot.mail.smtp import SmtpSender, build_message
from bot.portal.models import OutboxEmail
from bot.settings import Settings
from tests.portal.support import free_port


def _email(number: int, to: str = "martin@example.org", body: str = "Bonjour.") -> OutboxEmail:
    return OutboxEmail(
        id=number,
        to_address=to,
        subject=f"Activez votre espace locataire n°{number}",
        text_body=body,
        template="activation",
    )


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[Settings]:
    settings = Settings(var_dir=tmp_path, smtp_port=free_port())
    controller = start_smtp_sink(settings.smtp_host, settings.smtp_port, settings.mailbox_dir)
    yield settings
    controller.stop()


async def _send(settings: Settings, *emails: OutboxEmail) -> None:
    sender = SmtpSender(settings, timeout=5)
    for email in emails:
        await sender(email)


async def test_sent_email_is_read_back_with_its_links(smtp: Settings) -> None:
    body = (
        "Bonjour,\n\nCliquez sur le lien ci-dessous : vous choisirez votre mot de passe.\n\n"
        "http://127.0.0.1:8000/compte/activer?jeton=abc_DEF-123\n\nÀ bientôt, Ophéa\n"
    )

    await _send(smtp, _email(1, body=body))

    (email,) = read_mailbox(smtp.mailbox_dir)
    assert email.to == "martin@example.org"
    assert email.subject == "Activez votre espace locataire n°1"
    assert email.text.replace("\r\n", "\n") == body
    assert email.links == ["http://127.0.0.1:8000/compte/activer?jeton=abc_DEF-123"]
    assert email.as_dict()["links"] == email.links


async def test_mailbox_is_newest_first_and_filters_by_recipient(smtp: Settings) -> None:
    for number, to in enumerate(["a@example.org", "b@example.org", "A@example.org"], 1):
        await _send(smtp, _email(number, to=to))

    everything = read_mailbox(smtp.mailbox_dir)
    only_a = read_mailbox(smtp.mailbox_dir, to="a@EXAMPLE.org")

    assert [e.subject[-1] for e in everything] == ["3", "2", "1"]
    assert [e.subject[-1] for e in only_a] == ["3", "1"]
    assert len(read_mailbox(smtp.mailbox_dir, limit=2)) == 2


async def test_polling_the_mailbox_parses_each_email_once(smtp: Settings) -> None:
    """Tests and benches poll the mailbox for every code: a poll must not parse it all again."""
    from bot.mail import mailbox

    await _send(smtp, *(_email(number) for number in range(1, 31)))
    mailbox._parsed.cache_clear()
    assert len(read_mailbox(smtp.mailbox_dir)) == 30
    assert mailbox._parsed.cache_info().misses == 30

    await _send(smtp, _email(31, to="new@example.org"))
    (newest,) = read_mailbox(smtp.mailbox_dir, to="new@example.org")

    assert newest.subject.endswith("n°31")
    assert mailbox._parsed.cache_info().misses == 31


def test_missing_maildir_reads_as_empty(tmp_path: Path) -> None:
    assert read_mailbox(tmp_path / "nothing-here") == []


SENDER = "Espace locataire <ne-pas-repondre@example.org>"


def test_message_headers() -> None:
    message = build_message(_email(7), sender=SENDER)

    assert message["To"] == "martin@example.org"
    assert message["From"] == SENDER
    assert message["Subject"] == "Activez votre espace locataire n°7"


def test_retried_email_keeps_its_message_id() -> None:
    """Receivers can then drop the duplicate of an email the relay had in fact accepted."""
    email = _email(7)
    email.created_at = datetime(2026, 11, 26, 9, 30, tzinfo=timezone.utc)

    first, retry = build_message(email, sender=SENDER), build_message(email, sender=SENDER)
    other = build_message(_email(8), sender=SENDER)

    assert first["Message-ID"] == retry["Message-ID"]
    assert first["Message-ID"].endswith("@example.org>")
    assert other["Message-ID"] != first["Message-ID"]


async def test_sender_fails_loudly_when_smtp_is_down(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, smtp_port=free_port())

    with pytest.raises(Exception) as failure:  # noqa: B017 - the outbox retries on any error
        await _send(settings, _email(1))

    assert "Connect" in f"{type(failure.value).__name__}: {failure.value}"
