"""Development SMTP sink: accepts every email and keeps it in a Maildir for the dev mailbox.

The Maildir holds every code and link in clear (it plays the tenants' inboxes): its directories
are 0700 and its files 0600, whatever the umask.
"""

from __future__ import annotations

import mailbox
import os
from pathlib import Path
from typing import IO

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox

from bot.privacy.files import OWNER_ONLY, private_dir


class PrivateMaildir(mailbox.Maildir):
    """A Maildir whose message files are readable by their owner only."""

    def _create_tmp(self) -> IO[bytes]:
        # Each message is written to tmp/ and then moved to new/: made private while still empty.
        file = super()._create_tmp()
        os.fchmod(file.fileno(), OWNER_ONLY)
        return file


class PrivateMailbox(Mailbox):
    """aiosmtpd's Maildir handler, on a ``PrivateMaildir``."""

    def __init__(self, mail_dir: Path):
        super().__init__(mail_dir)
        for sub in ("", "tmp", "new", "cur"):
            private_dir(mail_dir / sub)
        self.mailbox = PrivateMaildir(mail_dir)


def start_smtp_sink(host: str, port: int, maildir: Path) -> Controller:
    """Start the sink in its own thread; call ``.stop()`` on the result to stop it."""
    maildir.parent.mkdir(parents=True, exist_ok=True)
    controller = Controller(PrivateMailbox(maildir), hostname=host, port=port)
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
