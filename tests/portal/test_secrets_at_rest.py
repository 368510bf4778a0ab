"""Nothing secret at rest that need not be (issue 9, finding 5).

After a verification by emailed code, a direct-debit request and a password reset, every row of
every table holds no code, no link token and no IBAN in clear; emails keep their bodies and
attachments only while they wait, encrypted; IBANs and uploaded files are encrypted with the
data key; a given-up request leaves nothing; the files are their owner's only.
"""

from __future__ import annotations

import io
import re
import stat
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pypdf import PdfReader
from sqlalchemy import inspect, select, text, update
from sqlalchemy.orm import selectinload, sessionmaker

from bot.mail.sink import start_smtp_sink
from bot.portal.db import create_database, create_engine
from bot.portal.models import (
    DirectDebitDraft,
    Household,
    OutboxEmail,
    StoredUpload,
    UploadSlot,
    utcnow,
)
from bot.portal.models import encrypted as encrypted_module
from bot.portal.models.encrypted import DataKeyError, EncryptedText, use_data_key
from bot.portal.services.direct_debit import purge_expired_drafts
from bot.portal.services.outbox import deliver_due, enqueue_email
from bot.privacy.redaction import IBAN_MARK
from bot.settings import DEV_DATA_KEY, Settings
from tests.portal.support import (
    Mailbox,
    Portal,
    email_attachments,
    outbox,
    token_of,
    verify_conversation,
    words,
)
from tests.portal.test_direct_debit import request_body
from tests.portal.test_uploads import pdf_file
from tests.portal.test_verification import confirm, emailed_code, start

CLAIRE = "claire.dupont@example.org"
NGUYEN = "minh.nguyen@example.org"
IBAN = "FR76 3000 6000 0112 3456 7890 189"
#: Every way the IBAN of the tests could be written down: printed, compact, lower case, the
#: national part (bank, branch, account, key) and the account number alone.
IBAN_FORMS = (
    IBAN,
    IBAN.replace(" ", ""),
    IBAN.lower(),
    IBAN.replace(" ", "").lower(),
    "30006000011234567890189",
    "3000 6000 0112 3456 7890 189",
    "12345678901",
)
OTHER_KEY = "b3RoZXItZGF0YS1rZXktZm9yLXRoZS10ZXN0cy0xMjM="


async def stored_rows(sessions: sessionmaker) -> str:
    """Every value of every row of every table of the database, as stored (no column type
    decrypts it), one per line; dates are left out: their microseconds could look like a code."""
    values = []
    async with sessions() as session:
        connection = await session.connection()
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        for table in sorted(tables):
            for row in (await session.execute(text(f'SELECT * FROM "{table}"'))).all():
                for value in row:
                    if isinstance(value, (bytes, memoryview)):
                        values.append(f"{table}: {bytes(value)!r}")
                    elif value is not None:
                        values.append(f"{table}: {value}")
    return _DATES.sub("<date>", "\n".join(values))


_DATES = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:?\d{2})?")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def _upload_rib(portal: Portal, conversation: str, filename: str) -> tuple[int, str]:
    created = await portal.api(
        "/api/v1/uploads",
        {"purpose": "rib", "kinds": ["pdf", "image"]},
        conversation_id=conversation,
    )
    assert created.status_code == 201, created.text
    slot = created.json()
    sent = await portal.client.post(
        urlsplit(slot["upload_url"]).path,
        files={"fichier": (filename, pdf_file(), "application/pdf")},
    )
    assert sent.status_code == 200, sent.text
    return slot["slot_id"], token_of_upload(slot["upload_url"])


def token_of_upload(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[-1]


# --------------------------------------------------------------------------- the proof


async def test_after_a_direct_debit_and_a_reset_no_code_token_or_iban_is_left(
    portal: Portal, mailbox: Mailbox
) -> None:
    conversation = "rest:secrets-at-rest"
    # Verified by a code sent by email.
    assert (await start(portal, conversation, email=CLAIRE)).status_code == 202
    code = await emailed_code(mailbox, portal, CLAIRE)
    assert (await confirm(portal, conversation, code)).status_code == 200
    # The IBAN typed in the chat, then a RIB its device named after the IBAN.
    kept = await portal.api(
        "/api/v1/direct-debit/iban", {"iban": IBAN}, conversation_id=conversation, method="PUT"
    )
    assert kept.status_code == 200, kept.text
    slot_id, upload_token = await _upload_rib(portal, conversation, f"RIB {IBAN}.pdf")
    body = {k: v for k, v in request_body(slot_id).items() if k != "iban"}
    created = await portal.api("/api/v1/direct-debits", body, conversation_id=conversation)
    assert created.status_code == 201, created.text
    await portal.deliver_now()
    mandate = await mailbox.wait_for(to=CLAIRE, subject="mandat de prélèvement SEPA")
    # A password reset; its token opens the new-password form.
    assert (await portal.api("/api/v1/password-resets", {"email": CLAIRE})).status_code == 202
    await portal.deliver_now()
    reset = await mailbox.wait_for(to=CLAIRE, subject="nouveau mot de passe")
    (link,) = [link for link in reset.links if "nouveau-mot-de-passe" in link]
    reset_token = token_of(link)
    assert (await portal.open_link(link)).status_code == 200

    await portal.snapshot()  # once the outbox has delivered everything
    dump = await stored_rows(portal.sessions)

    assert reset_token not in dump
    assert upload_token not in dump
    assert not re.search(rf"(?<!\d){code}(?!\d)", dump), "verification code in the database"
    for form in IBAN_FORMS:
        assert form not in dump, form
    emails = await outbox(portal.sessions)
    assert len(emails) >= 3 and all(e.sent_at and e.text_body == "" for e in emails)
    async with portal.sessions() as session:
        attachments = [
            attachment
            for email in await session.scalars(
                select(OutboxEmail).options(selectinload(OutboxEmail.attachments))
            )
            for attachment in email.attachments
        ]
        (rib,) = await session.scalars(select(StoredUpload).where(StoredUpload.slot_id == slot_id))
    assert [(a.filename.startswith("mandat-sepa-"), a.data) for a in attachments] == [(True, b"")]
    assert rib.filename == f"RIB {IBAN_MARK}.pdf"
    # The mandate itself, as the tenant received it, still shows the IBAN.
    (pdf,) = email_attachments(mailbox, mandate).values()
    assert IBAN in words(PdfReader(io.BytesIO(pdf)).pages[0].extract_text())
    # On SQLite, not even the file (and its write-ahead log) ever held them in clear.
    database = portal.settings.var_dir / "portal.db"
    if not portal.settings.database_url:
        raw = b"".join(
            path.read_bytes()
            for path in (database, database.with_name("portal.db-wal"))
            if path.exists()
        )
        for secret in (reset_token, upload_token, *IBAN_FORMS):
            assert secret.encode() not in raw, secret
        assert mode(database) == 0o600
    assert mode(portal.settings.var_dir) == 0o700


# --------------------------------------------------------------------------- outbox


async def _raw(sessions: sessionmaker, sql: str) -> list[tuple]:
    async with sessions() as session:
        return [tuple(row) for row in (await session.execute(text(sql))).all()]


async def test_a_waiting_email_is_encrypted_then_emptied_once_sent(sessions: sessionmaker) -> None:
    async with sessions.begin() as session:
        await enqueue_email(
            session=session,
            to=CLAIRE,
            template="verification_code",
            attachments=[("a.pdf", "application/pdf", b"%PDF-1.4 secret")],
            code="424242",
            minutes=10,
        )
    ((body,),) = await _raw(sessions, "SELECT text_body FROM outbox_emails")
    ((data,),) = await _raw(sessions, "SELECT data FROM outbox_attachments")
    assert body.startswith("gAAAAA") and "424242" not in body
    assert bytes(data).startswith(b"gAAAAA") and b"secret" not in bytes(data)
    (email,) = await outbox(sessions)
    assert "424242" in email.text_body  # read back through the model, for the relay

    sent: list[str] = []

    async def relay(email: OutboxEmail) -> None:
        sent.append(email.text_body)
        assert email.attachments[0].data == b"%PDF-1.4 secret"

    assert await deliver_due(sessions=sessions, send=relay, max_attempts=3) == 1

    assert "424242" in sent[0]
    assert await _raw(sessions, "SELECT text_body, subject, to_address FROM outbox_emails") == [
        ("", "Votre code de vérification", CLAIRE)
    ]
    assert await _raw(sessions, "SELECT filename, data FROM outbox_attachments") == [("a.pdf", b"")]


async def test_an_email_given_up_on_is_emptied_too(sessions: sessionmaker) -> None:
    async with sessions.begin() as session:
        await enqueue_email(
            session=session, to=CLAIRE, template="verification_code", code="424242", minutes=10
        )

    async def down(email: OutboxEmail) -> None:
        raise ConnectionRefusedError("relay down")

    assert await deliver_due(sessions=sessions, send=down, max_attempts=2) == 0
    (email,) = await outbox(sessions)
    assert email.failed_at is None and "424242" in email.text_body  # kept for the retry
    async with sessions.begin() as session:
        await session.execute(update(OutboxEmail).values(next_attempt_at=utcnow()))
    assert await deliver_due(sessions=sessions, send=down, max_attempts=2) == 0

    (email,) = await outbox(sessions)
    assert email.failed_at is not None and email.text_body == ""


# --------------------------------------------------------------------------- encrypted columns


async def test_ibans_are_stored_encrypted_and_read_back_clear(portal: Portal) -> None:
    await verify_conversation(portal, CLAIRE, "enc1")
    kept = await portal.api(
        "/api/v1/direct-debit/iban", {"iban": IBAN}, conversation_id="enc1", method="PUT"
    )
    assert kept.status_code == 200

    ((raw,),) = await _raw(portal.sessions, "SELECT iban FROM direct_debit_drafts")
    assert raw.startswith("gAAAAA") and "3000" not in raw
    async with portal.sessions() as session:
        draft = await session.scalar(select(DirectDebitDraft))
    assert draft.iban == "FR7630006000011234567890189"


def test_another_key_cannot_read_the_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encrypted_module, "_fernet", None)
    column = EncryptedText()
    use_data_key(DEV_DATA_KEY)
    stored = column.process_bind_param("FR7630006000011234567890189", None)
    assert column.process_result_value(stored, None) == "FR7630006000011234567890189"
    assert column.process_bind_param("", None) == ""
    assert column.process_result_value("FR76 written before", None) == "FR76 written before"

    use_data_key(OTHER_KEY)
    with pytest.raises(DataKeyError):
        column.process_result_value(stored, None)
    with pytest.raises(DataKeyError):
        use_data_key("not a key")
    use_data_key(DEV_DATA_KEY)


def test_without_set_up_the_key_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(encrypted_module, "_fernet", None)
    monkeypatch.setenv("DATA_ENCRYPTION_KEY", OTHER_KEY)
    stored = EncryptedText().process_bind_param("secret", None)
    use_data_key(OTHER_KEY)
    assert EncryptedText().process_result_value(stored, None) == "secret"
    use_data_key(DEV_DATA_KEY)


async def test_what_an_earlier_version_left_in_clear_is_sealed_at_start_up(
    sessions: sessionmaker, portal_settings: Settings
) -> None:
    async with sessions.begin() as session:
        await enqueue_email(
            session=session, to=CLAIRE, template="verification_code", code="424242", minutes=10
        )
        await enqueue_email(
            session=session, to=CLAIRE, template="verification_code", code="737373", minutes=10
        )
        household_id = await session.scalar(
            select(Household.id).where(Household.client_number == "87654321")
        )
    # As an earlier version wrote them: a sent email with its body, an IBAN in clear.
    postgres = bool(portal_settings.database_url)
    async with sessions.begin() as session:
        await session.execute(text("UPDATE outbox_emails SET text_body = 'code 424242'"))
        await session.execute(
            text("UPDATE outbox_emails SET sent_at = :now WHERE id = :first"),
            {"now": utcnow(), "first": (await outbox(sessions))[0].id},
        )
        if postgres:
            await session.execute(
                text("ALTER TABLE direct_debit_drafts ALTER COLUMN iban TYPE VARCHAR(34)")
            )
        await session.execute(
            text(
                "INSERT INTO direct_debit_drafts (conversation_id, household_id, iban,"
                " created_at, expires_at)"
                " VALUES ('old', :household, 'FR7630006000011234567890189', :now, :later)"
            ),
            {"household": household_id, "now": utcnow(), "later": utcnow() + timedelta(hours=1)},
        )

    engine = create_engine(portal_settings.resolved_database_url)
    try:
        await create_database(engine)
        await create_database(engine)  # idempotent
    finally:
        await engine.dispose()

    rows = await _raw(sessions, "SELECT text_body, sent_at FROM outbox_emails ORDER BY id")
    assert rows[0][0] == ""  # sent: emptied
    assert rows[1][0].startswith("gAAAAA")  # waiting: encrypted
    ((iban,),) = await _raw(sessions, "SELECT iban FROM direct_debit_drafts")
    assert iban.startswith("gAAAAA")
    (_, waiting) = await outbox(sessions)
    assert waiting.text_body == "code 424242"
    async with sessions() as session:
        assert (await session.scalar(select(DirectDebitDraft))).iban == (
            "FR7630006000011234567890189"
        )


# --------------------------------------------------------------------------- drafts


async def _draft_and_rib(portal: Portal, conversation: str, email: str = CLAIRE) -> int:
    await verify_conversation(portal, email, conversation)
    kept = await portal.api(
        "/api/v1/direct-debit/iban", {"iban": IBAN}, conversation_id=conversation, method="PUT"
    )
    assert kept.status_code == 200
    slot_id, _ = await _upload_rib(portal, conversation, "rib.pdf")
    return slot_id


async def _forget(portal: Portal, conversation: str, query: str = ""):
    return await portal.client.delete(
        f"/api/v1/direct-debit/iban{query}", headers=portal.headers(conversation)
    )


async def _counts(portal: Portal) -> tuple[int, int]:
    (drafts,) = (await _raw(portal.sessions, "SELECT COUNT(*) FROM direct_debit_drafts"))[0]
    (files,) = (await _raw(portal.sessions, "SELECT COUNT(*) FROM stored_uploads"))[0]
    return drafts, files


async def test_a_cancelled_request_leaves_neither_iban_nor_rib(portal: Portal) -> None:
    slot_id = await _draft_and_rib(portal, "cancel1")
    before = await _counts(portal)

    response = await _forget(portal, "cancel1", f"?rib_slot_id={slot_id}")

    assert response.status_code == 204
    assert await _counts(portal) == (before[0] - 1, before[1] - 1)
    assert (await _forget(portal, "cancel1")).status_code == 204  # nothing left: no error


async def test_forgetting_needs_the_service_token_and_a_number(portal: Portal) -> None:
    await _draft_and_rib(portal, "cancel2")
    before = await _counts(portal)

    anonymous = await portal.client.delete(
        "/api/v1/direct-debit/iban", headers={"X-Conversation-Id": "cancel2"}
    )
    malformed = await _forget(portal, "cancel2", "?rib_slot_id=99999999999999999999")

    assert (anonymous.status_code, malformed.status_code) == (401, 400)
    assert await _counts(portal) == before


async def test_only_the_conversation_s_own_rib_goes(portal: Portal) -> None:
    """Another household's RIB, or one a request uses, stays whatever slot id is given."""
    theirs = await _draft_and_rib(portal, "cancel3")  # Claire's
    await verify_conversation(portal, NGUYEN, "cancel4")
    await portal.api(
        "/api/v1/direct-debit/iban", {"iban": IBAN}, conversation_id="cancel4", method="PUT"
    )
    before = await _counts(portal)

    assert (await _forget(portal, "cancel4", f"?rib_slot_id={theirs}")).status_code == 204

    assert await _counts(portal) == (before[0] - 1, before[1])  # Nguyen's draft only


async def test_the_daily_job_deletes_expired_drafts_and_unclaimed_ribs(portal: Portal) -> None:
    slot_id = await _draft_and_rib(portal, "expired1")
    await _draft_and_rib(portal, "expired2", NGUYEN)  # its RIB link has not expired yet
    past = utcnow() - timedelta(minutes=1)
    async with portal.sessions.begin() as session:
        await session.execute(update(DirectDebitDraft).values(expires_at=past))
        await session.execute(
            update(UploadSlot).where(UploadSlot.id == slot_id).values(expires_at=past)
        )
    before = await _counts(portal)

    async with portal.sessions.begin() as session:
        deleted = await purge_expired_drafts(session=session)
    async with portal.sessions.begin() as session:
        again = await purge_expired_drafts(session=session)

    assert (deleted, again) == (3, 0)  # two drafts, the RIB whose link expired
    assert await _counts(portal) == (before[0] - 2, before[1] - 1)


async def test_a_rib_used_by_a_request_is_kept_for_staff(portal: Portal) -> None:
    slot_id = await _draft_and_rib(portal, "sent2")
    body = {k: v for k, v in request_body(slot_id).items() if k != "iban"}
    created = await portal.api("/api/v1/direct-debits", body, conversation_id="sent2")
    assert created.status_code == 201, created.text
    async with portal.sessions.begin() as session:
        await session.execute(update(UploadSlot).values(expires_at=utcnow() - timedelta(days=2)))
    before = await _counts(portal)

    assert (await _forget(portal, "sent2", f"?rib_slot_id={slot_id}")).status_code == 204
    async with portal.sessions.begin() as session:
        assert await purge_expired_drafts(session=session) == 0

    assert await _counts(portal) == before


# --------------------------------------------------------------------------- files


async def test_the_dev_maildir_is_its_owner_s_only(settings: Settings, tmp_path: Path) -> None:
    import aiosmtplib

    maildir = tmp_path / "mailbox"
    controller = start_smtp_sink(settings.smtp_host, settings.smtp_port, maildir)
    try:
        await aiosmtplib.send(
            b"Subject: code\r\n\r\n424242\r\n",
            sender="a@example.org",
            recipients=["b@example.org"],
            hostname=settings.smtp_host,
            port=settings.smtp_port,
        )
    finally:
        controller.stop()

    (message,) = Mailbox(maildir).emails()
    (path,) = (maildir / "new").iterdir()
    assert "424242" in message.text
    assert mode(path) == 0o600
    assert {mode(maildir / sub) for sub in ("", "tmp", "new", "cur")} == {0o700}


async def test_a_portal_database_file_is_created_its_owner_s_only(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'new.db'}")
    try:
        await create_database(engine)
    finally:
        await engine.dispose()
    assert mode(tmp_path / "new.db") == 0o600
    assert all(mode(p) == 0o600 for p in tmp_path.glob("new.db*"))
