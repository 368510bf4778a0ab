"""Development SMTP sink: accepts every email and keeps it in a Maildir for the dev mailbox."""

from __future__ import annotations

from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox


def start_smtp_sink(host: str, port: int, maildir: Path) -> Controller:
    """Start the sink in its own thread; call ``.stop()`` on the result to stop it."""
    maildir.parent.mkdir(parents=True, exist_ok=True)
    controller = Controller(Mailbox(str(maildir)), hostname=host, port=port)
    controller.start()
    return controller


def main() -> None:  # pragma: no cover - manual use: python -m bot.mail.sink
    import time

    from bot.settings import Settings

    settings = Settings.from_env()
    controller = start_smtp_sink(settings.smtp_host, settings.smtp_port, settings.mailbox_dir)
    print(f"SMTP sink on {settings.smtp_host}:{settings.smtp_port} -> {settings.mailbox_dir}")
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
