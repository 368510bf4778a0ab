"""Reading the development Maildir back: what the dev mailbox page and JSON show."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from email import policy
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from functools import lru_cache
from pathlib import Path
from stat import S_ISREG

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


@lru_cache(maxsize=8192)
def _parsed(path: Path, mtime_ns: int, size: int) -> ReceivedEmail:
    """One delivered file, parsed once: a Maildir file does not change after delivery (the
    modification time and size in the key would show it if it did)."""
    return _parse(path.name, path.read_bytes())


def read_mailbox(maildir: Path, *, to: str | None = None, limit: int = 200) -> list[ReceivedEmail]:
    """Emails received by the sink, newest first, optionally only those sent to ``to``.

    Each file is parsed once (``_parsed``): the end-to-end tests and the benches poll this for
    every code they wait for, and parsing the whole mailbox at each poll made the portal spend
    seconds of CPU per message once a few hundred emails were in.
    """
    files = []
    for sub in ("new", "cur"):
        for path in (maildir / sub).glob("*"):
            try:
                stat = path.stat()
            except FileNotFoundError:  # moved from new/ to cur/ meanwhile
                continue
            if not S_ISREG(stat.st_mode):
                continue
            files.append((stat.st_mtime_ns, path.name, stat.st_size, path))
    files.sort(key=lambda entry: entry[:2], reverse=True)
    emails = []
    for mtime_ns, _name, size, path in files:
        try:
            emails.append(_parsed(path, mtime_ns, size))
        except FileNotFoundError:
            continue
    if to:
        emails = [email for email in emails if to.lower() in email.to.lower()]
    return emails[:limit]
