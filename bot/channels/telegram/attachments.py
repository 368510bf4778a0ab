"""Files the tenant sends in the chat, taken to the portal's upload page.

The bot gives the tenant an upload link (``/depot/<token>``); the output channel remembers the
last one sent to each chat (``find_upload_link``). A document or photo sent while a link is
pending goes there as the portal's own page would send it::

    getFile + download ─> POST <link> (multipart ``fichier``)
      200 ........... taken
      410 ........... taken too: the link was used (this very file, on an earlier try) or
                      expired; either way the form asks the portal and tells the tenant
      400, 413, 415 . refused: the tenant is told (``file_refused``)
      other, or no answer ... ``UploadFailed``: the update is to be retried
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
from telegram import Message

logger = logging.getLogger(__name__)

#: The Bot API hands over files up to this size.
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
UPLOAD_LINK = re.compile(r"https?://[^\s<>\"'«»]+/depot/[A-Za-z0-9_~%.-]+")
UPLOAD_FIELD = "fichier"
REFUSED = (400, 413, 415)
TAKEN = (200, 410)


class UploadFailed(Exception):
    """The upload page did not answer usefully: the update is to be retried."""


@dataclass(frozen=True)
class Attachment:
    """A file the tenant sent in the chat."""

    file_id: str
    file_name: str
    mime_type: str
    file_size: int | None


def attachment_of(message: Message) -> Attachment | None:
    """The document or (largest) photo of a message, if it has one."""
    if message.document is not None:
        document = message.document
        return Attachment(
            file_id=document.file_id,
            file_name=document.file_name or "document",
            mime_type=document.mime_type or "application/octet-stream",
            file_size=document.file_size,
        )
    if message.photo:
        photo = max(message.photo, key=lambda size: size.width * size.height)
        return Attachment(
            file_id=photo.file_id,
            file_name="photo.jpg",
            mime_type="image/jpeg",
            file_size=photo.file_size,
        )
    return None


def find_upload_link(text: str) -> str | None:
    """The last upload link in a text the bot sent, without the punctuation that follows it."""
    links = UPLOAD_LINK.findall(text)
    return links[-1].rstrip(".,;:!?)") if links else None


class FileForwarder:
    """Downloads a tenant's file from Telegram and posts it to a pending upload link.

    Args:
        download: ``(chat_id, file_id)`` to the file's bytes, None if Telegram refuses.
        timeout: seconds the upload page has to answer.
    """

    def __init__(
        self, download: Callable[[str, str], Awaitable[bytes | None]], timeout: float = 30.0
    ) -> None:
        self._download = download
        self._timeout = timeout
        self._http: httpx.AsyncClient | None = None

    async def forward(self, chat_id: str, link: str, attachment: Attachment) -> str | None:
        """None once the page took the file; else the notice to send (``messages_fr.yml``).

        Raises:
            UploadFailed: the page did not answer, or answered neither "taken" nor "refused".
        """
        if attachment.file_size and attachment.file_size > MAX_DOWNLOAD_BYTES:
            return "file_refused"
        data = await self._download(chat_id, attachment.file_id)
        if data is None:
            return "file_refused"
        status = await self._post(link, attachment, data)
        if status in REFUSED:
            logger.info("telegram: chat %s: upload page refused the file (%s)", chat_id, status)
            return "file_refused"
        if status not in TAKEN:
            raise UploadFailed(f"upload page answered {status}")
        return None

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def _post(self, link: str, attachment: Attachment, data: bytes) -> int:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(self._timeout, connect=5.0))
        files = {UPLOAD_FIELD: (attachment.file_name, data, attachment.mime_type)}
        try:
            sent = await self._http.post(link, files=files, headers={"Accept": "text/html"})
        except httpx.HTTPError as error:
            raise UploadFailed(type(error).__name__) from error
        return sent.status_code
