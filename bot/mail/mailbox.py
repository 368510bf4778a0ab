"""Reading the development Maildir back: what the dev mailbox page and JSON show."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from email import policy
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

_LINK = re.compile(r"https?://[^\s<>\"')]+")


@dataclass(frozen=True)
class ReceivedEmail:
    id: str
    to: str
    subject: str
    text: str
    links: list[str]
    received_at: str
    attachments: list[str]  # file names

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _parse(key: str, raw: bytes) -> ReceivedEmail:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    date = message.get("Date")
    return ReceivedEmail(
        id=key,
        to=str(message.get("To", "")),
        subject=str(message.get("Subject", "")),
        text=text,
        links=_LINK.findall(text),
        received_at=parsedate_to_datetime(date).isoformat() if date else "",
        attachments=[part.get_filename() or "" for part in message.iter_attachments()],
    )


def read_mailbox(maildir: Path, *, to: str | None = None, limit: int = 200) -> list[ReceivedEmail]:
    """Emails received by the sink, newest first, optionally only those sent to ``to``."""
    files = [path for sub in ("new", "cur") for path in (maildir / sub).glob("*") if path.is_file()]
    files.sort(key=lambda path: (path.stat().st_mtime_ns, path.name), reverse=True)
    emails = [_parse(path.name, path.read_bytes()) for path in files]
    if to:
        emails = [email for email in emails if to.lower() in email.to.lower()]
    return emails[:limit]
