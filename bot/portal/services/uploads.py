"""Upload links: the chat hands the tenant a link, the tenant sends a file from a browser page.

::

    create_upload_slot ──> /depot/<token> (GET form, POST file) ──> receive_upload
         │                                                            │ inspect_file: size cap,
         │                                                            │ real PDF / PNG / JPEG,
         │                                                            │ no script in a PDF
         └── slot_status / upload_for  <── the action server polls ───┘ StoredUpload, slot used

The token is random and only its SHA-256 is stored; a slot takes one file, then the link stops
working; it expires after ``settings.upload_ttl_hours``. A refused file changes nothing, so the
tenant can try again with the same link. The content type is what the bytes are, not what the
browser or the file name claims.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from bot.errors import InvalidInput, NotFound, TokenInvalid, message_text, or_list
from bot.portal.models import UPLOAD_KINDS, StoredUpload, UploadSlot, utcnow
from bot.portal.services.tokens import digest
from bot.privacy.redaction import redact_filename
from bot.settings import Settings

UPLOAD_PATH = "/depot/"
_PURPOSE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
#: Larger images are refused rather than decoded (a small file can hide a huge bitmap).
MAX_IMAGE_PIXELS = 60_000_000
#: Dictionary keys of a PDF that make a reader run something or carry another file: scripts,
#: actions triggered on opening, closing, printing or on a page (``/AA``), embedded files
#: (``/EmbeddedFiles``, ``/EF``), XFA forms, rich media.
_ACTIVE_KEYS = frozenset(
    {"/JS", "/JavaScript", "/AA", "/EmbeddedFiles", "/EmbeddedFile", "/EF", "/XFA", "/RichMedia"}
)
#: Actions (``/S``) that run code, open another file or program, or send data out. Going to a
#: page of the document (``/GoTo``) or to a web address (``/URI``, a link the tenant clicks)
#: stays allowed: bank statements carry such links.
_ACTIVE_ACTIONS = frozenset(
    {
        "/JavaScript",
        "/Launch",
        "/SubmitForm",
        "/ImportData",
        "/GoToE",
        "/GoToR",
        "/RichMediaExecute",
        "/Rendition",
    }
)


# --------------------------------------------------------------------------- slots


async def create_upload_slot(
    *,
    session: AsyncSession,
    settings: Settings,
    household_id: int,
    purpose: str,
    kinds: frozenset[str],
) -> tuple[UploadSlot, str]:
    """A new single-use upload link for the household; return the slot and its absolute URL."""
    if not kinds or not set(kinds) <= UPLOAD_KINDS:
        raise InvalidInput(
            code="invalid_kinds",
            field="kinds",
        )
    if not _PURPOSE.match(purpose or ""):
        raise InvalidInput(code="invalid_purpose", field="purpose")
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    slot = UploadSlot(
        household_id=household_id,
        purpose=purpose,
        kinds_text=",".join(sorted(kinds)),
        token_hash=digest(raw),
        created_at=now,
        expires_at=now + timedelta(hours=settings.upload_ttl_hours),
    )
    session.add(slot)
    await session.flush()
    return slot, settings.public_base_url.rstrip("/") + UPLOAD_PATH + raw


async def open_slot(*, session: AsyncSession, raw_token: str) -> UploadSlot:
    """The slot behind a link if it can still take a file; ``TokenInvalid`` otherwise."""
    if not raw_token or len(raw_token) > 200:
        raise TokenInvalid(code="token_invalid")
    slot = await session.scalar(
        select(UploadSlot).where(UploadSlot.token_hash == digest(raw_token))
    )
    if slot is None:
        raise TokenInvalid(code="token_invalid")
    if slot.used_at is not None:
        raise TokenInvalid(code="token_used")
    if slot.expires_at <= utcnow():
        raise TokenInvalid(code="token_expired")
    return slot


async def slot_of_household(
    *, session: AsyncSession, slot_id: int, household_id: int
) -> UploadSlot:
    """The slot if it belongs to the household; ``NotFound`` alike for unknown and foreign ones."""
    slot = await session.get(UploadSlot, slot_id)
    if slot is None or slot.household_id != household_id:
        raise NotFound(code="upload_not_found")
    return slot


async def slot_for_purpose(
    *, session: AsyncSession, slot_id: int, household_id: int, purpose: str
) -> UploadSlot | None:
    """The household's slot if it serves ``purpose``; ``None`` alike for unknown, foreign and
    other-purpose ones."""
    slot = await session.get(UploadSlot, slot_id)
    if slot is None or slot.household_id != household_id or slot.purpose != purpose:
        return None
    return slot


async def upload_for(*, session: AsyncSession, slot_id: int) -> StoredUpload | None:
    """The file received through the slot (with its bytes), or ``None`` while waiting."""
    return await session.scalar(
        select(StoredUpload)
        .where(StoredUpload.slot_id == slot_id)
        .options(undefer(StoredUpload.data))
    )


async def slot_status(*, session: AsyncSession, slot_id: int) -> str:
    """``"waiting"``, ``"received"`` or ``"expired"``; ``NotFound`` for an unknown slot."""
    slot = await session.get(UploadSlot, slot_id)
    if slot is None:
        raise NotFound(code="upload_not_found")
    if slot.used_at is not None:
        return "received"
    return "expired" if slot.expires_at <= utcnow() else "waiting"


# --------------------------------------------------------------------------- content


@dataclass(frozen=True)
class DetectedFile:
    kind: str  # "pdf" or "image"
    content_type: str
    extension: str


def _refuse(*, code: str, variant: str | None = None, **values: object) -> InvalidInput:
    return InvalidInput(code=code, variant=variant, field="fichier", **values)


def has_active_content(reader: PdfReader) -> bool:
    """Whether anything reachable from the document catalog runs or opens on its own.

    Every object a reader can reach is visited once (indirect references are followed,
    streams are looked at as dictionaries, their data is not decoded). pypdf decodes names,
    so ``/J#61vaScript`` is ``/JavaScript``, and objects packed in object streams are reached
    like the others. Objects nothing refers to are never run by a reader and are left alone.
    """
    seen: set[tuple[int, int]] = set()
    pending: list[object] = [reader.trailer.raw_get("/Root")]
    while pending:
        node = pending.pop()
        if isinstance(node, IndirectObject):
            if (node.idnum, node.generation) in seen:
                continue
            seen.add((node.idnum, node.generation))
            node = node.get_object()
        if isinstance(node, DictionaryObject):  # streams too: they are dictionaries
            if not _ACTIVE_KEYS.isdisjoint(node.keys()) or node.get("/S") in _ACTIVE_ACTIONS:
                return True
            pending.extend(dict.values(node))  # unresolved: references are followed above
        elif isinstance(node, ArrayObject):
            pending.extend(list.__iter__(node))
    return False


def _check_pdf(data: bytes) -> DetectedFile:
    try:
        reader = PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted
        pages = 0 if encrypted else len(reader.pages)
        if pages:
            reader.pages[0].mediabox  # noqa: B018 - parses the first page
        active = pages > 0 and has_active_content(reader)
    except Exception:  # noqa: BLE001 - a malformed file may break the parser in any way
        raise _refuse(code="pdf_unreadable") from None
    if encrypted:
        raise _refuse(code="pdf_encrypted")
    if not pages:
        raise _refuse(code="pdf_unreadable", variant="no_page")
    if active:
        raise _refuse(code="pdf_active_content")
    return DetectedFile("pdf", "application/pdf", "pdf")


def _check_image(data: bytes) -> DetectedFile:
    expected = "PNG" if data.startswith(_PNG_MAGIC) else "JPEG"
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != expected:
                raise ValueError(image.format)
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise _refuse(code="image_too_large")
            image.verify()  # structure and (PNG) checksums
        with Image.open(io.BytesIO(data)) as image:
            # Decoding catches truncated files; a JPEG draft decodes at 1/8 scale, cheaply.
            image.draft("RGB", (max(image.width // 8, 1), max(image.height // 8, 1)))
            image.load()
    except InvalidInput:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError):
        raise _refuse(code="image_unreadable") from None
    if expected == "PNG":
        return DetectedFile("image", "image/png", "png")
    return DetectedFile("image", "image/jpeg", "jpg")


def inspect_file(data: bytes, *, kinds: frozenset[str], max_bytes: int) -> DetectedFile:
    """What the bytes really are, if the slot accepts it; ``InvalidInput`` otherwise (pure)."""
    if not data:
        raise _refuse(code="file_missing")
    if len(data) > max_bytes:
        raise _refuse(code="file_too_large")
    head = data[:1024]
    if "pdf" in kinds and b"%PDF-" in head:
        return _check_pdf(data)
    if "image" in kinds and (data.startswith(_PNG_MAGIC) or data.startswith(_JPEG_MAGIC)):
        return _check_image(data)
    allowed = (message_text(f"file_kind.{kind}") for kind in ("pdf", "image") if kind in kinds)
    raise _refuse(code="file_type_not_allowed", kinds=or_list(allowed))


def clean_filename(name: str, *, extension: str) -> str:
    """The device's file name without any path or control character, at most 120 characters.

    IBANs, card numbers and tokens in it are masked: tenants name their RIB after its IBAN,
    and the name is stored, shown to staff and echoed to the chat.
    """
    base = redact_filename(re.split(r"[\\/]", name or "")[-1])
    base = "".join(c for c in unicodedata.normalize("NFC", base) if c.isprintable()).strip(" .")
    if not base:
        return f"document.{extension}"
    stem, dot, suffix = base.rpartition(".")
    if dot and len(suffix) <= 10:
        return f"{stem[: 119 - len(suffix)]}.{suffix}"
    return base[:120]


# --------------------------------------------------------------------------- receiving


async def receive_upload(
    *, session: AsyncSession, settings: Settings, raw_token: str, filename: str, data: bytes
) -> StoredUpload:
    """Check and store a file sent through a link; the link then stops working.

    Raises ``TokenInvalid`` (unknown, used, expired link) or ``InvalidInput`` (empty, too large,
    wrong or broken file); neither changes anything.
    """
    slot = await open_slot(session=session, raw_token=raw_token)
    # Parsing a few megabytes of PDF must not stall every other request of the portal.
    detected = await asyncio.to_thread(
        inspect_file, data, kinds=slot.kinds, max_bytes=settings.upload_max_bytes
    )
    now = utcnow()
    claimed = await session.execute(
        update(UploadSlot)
        .where(UploadSlot.id == slot.id, UploadSlot.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # another request took the slot meanwhile
        raise TokenInvalid(code="token_used")
    upload = StoredUpload(
        slot_id=slot.id,
        household_id=slot.household_id,
        filename=clean_filename(filename, extension=detected.extension),
        kind=detected.kind,
        content_type=detected.content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        created_at=now,
    )
    session.add(upload)
    await session.flush()
    return upload
