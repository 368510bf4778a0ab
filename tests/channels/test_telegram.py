"""The Telegram channel, end to end over real sockets: Telegram's webhook calls reach the
channel's blueprint on a Sanic app; the real python-telegram-bot talks to a fake Bot API
(``fake_telegram.py``); ``on_new_message`` plays Rasa.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from rasa.core.channels.channel import UserMessage, register
from rasa.core.run import create_http_input_channels
from sanic import Sanic

from bot import cli
from bot.channels.limits import too_long_reply
from bot.channels.state import ChannelState, MemoryStore
from bot.channels.telegram import TelegramInput, TelegramOutput
from bot.channels.telegram.bot_api import api_root, make_bot, set_webhook
from bot.channels.telegram.handling import FILE_SENT_TEXT, command_as_text
from bot.channels.telegram.memory import (
    CALLBACK_PREFIX,
    ShortButtonIds,
    UploadLinks,
    callback_data,
)
from bot.channels.telegram.output import channel_messages
from bot.channels.telegram.rendering import split_text
from bot.runner.channels import write_credentials
from bot.settings import MESSAGE_MAX_CHARS, PROJECT_ROOT
from tests.channels.fake_telegram import BOT_USER, FakeTelegram
from tests.portal.support import Portal, serve, verify_conversation
from tests.portal.test_uploads import NGUYEN, new_slot, pdf_file, status_of

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
SECRET = "s3cret-Token_for-tests"
CHAT = 987654321  # real chat ids are long; a 6-digit one would be masked as a code in logs
WEBHOOK = "/webhooks/telegram/webhook"
NOTICES = channel_messages()
_apps = itertools.count()
_ids = itertools.count(1000)

#: What the lead adds to credentials.yml (Rasa expands ``${...}`` from the environment).
CREDENTIALS_BLOCK = """
bot.channels.telegram.TelegramInput:
  access_token: ${TELEGRAM_ACCESS_TOKEN}
  secret_token: ${TELEGRAM_SECRET_TOKEN}
  webhook_url: ${TELEGRAM_WEBHOOK_URL}
"""

Script = Callable[[UserMessage], Awaitable[None]]


async def echo(message: UserMessage) -> None:
    """The default bot: one reply."""
    await message.output_channel.send_response(message.sender_id, {"text": "Bien reçu."})


@dataclass
class Harness:
    """The channel served on a Sanic app, Rasa played by ``script``."""

    channel: TelegramInput
    fake: FakeTelegram
    client: httpx.AsyncClient
    script: Script = echo
    received: list[UserMessage] = field(default_factory=list)
    attempts: int = 0

    async def handle_message(self, message: UserMessage) -> None:
        """Rasa's ``Agent.handle_message``, which the channel's ``on_new_message`` calls."""
        self.attempts += 1
        await self.script(message)
        self.received.append(message)

    async def post(self, update: dict[str, Any], secret: str | None = SECRET) -> httpx.Response:
        headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
        return await self.client.post(WEBHOOK, json=update, headers=headers)

    @property
    def texts(self) -> list[str | None]:
        return [message.text for message in self.received]


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(TOKEN) as server:
        yield server


def telegram_channel(fake: FakeTelegram, state: ChannelState | None = None) -> TelegramInput:
    """The channel as the tests configure it, its bot on ``fake``."""
    output = TelegramOutput(
        make_bot(TOKEN, fake.url), backoff_seconds=0.01, max_wait_seconds=0.05, state=state
    )
    return TelegramInput(TOKEN, SECRET, "https://example.org" + WEBHOOK, output=output)


@pytest.fixture
async def harness(fake: FakeTelegram) -> AsyncIterator[Harness]:
    async with serving(telegram_channel(fake), fake) as running:
        yield running


@asynccontextmanager
async def serving(channel: TelegramInput, fake: FakeTelegram) -> AsyncIterator[Harness]:
    """``channel`` served on a Sanic app of its own, as one Rasa server serves it."""
    app = Sanic(f"telegram_test_{next(_apps)}")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        running = Harness(channel=channel, fake=fake, client=client)
        app.ctx.agent = running
        register([channel], app, route="/webhooks/")  # as the Rasa server mounts channels
        async with serve(app, sock):
            yield running
    sock.close()


# --------------------------------------------------------------------------- updates


def _user(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "is_bot": False, "first_name": "Claire", "language_code": "fr"}


def message(chat_id: int = CHAT, chat_type: str = "private", **content: Any) -> dict[str, Any]:
    chat = {"id": chat_id, "type": chat_type}
    if chat_type == "private":
        chat["first_name"] = "Claire"
    else:
        chat["title"] = "Un groupe"
    return {
        "message_id": next(_ids),
        "date": 1_700_000_000,
        "chat": chat,
        "from": _user(chat_id),
        **content,
    }


def update(kind: str = "message", update_id: int | None = None, **body: Any) -> dict[str, Any]:
    return {"update_id": update_id or next(_ids), kind: body}


def text_update(text: str, update_id: int | None = None, chat_id: int = CHAT) -> dict[str, Any]:
    return update(update_id=update_id, **message(chat_id, text=text))


def button_update(data: str, chat_id: int = CHAT) -> dict[str, Any]:
    bot_message = {
        "message_id": 1,
        "date": 1_700_000_000,
        "chat": {"id": chat_id, "type": "private", "first_name": "Claire"},
        "from": BOT_USER,
        "text": "Une question ?",
    }
    return update(
        "callback_query",
        id="query-1",
        chat_instance="instance-1",
        data=data,
        message=bot_message,
        **{"from": _user(chat_id)},
    )


def document_update(file_id: str = "doc-1", name: str = "attestation.pdf") -> dict[str, Any]:
    document = {
        "file_id": file_id,
        "file_unique_id": f"u{file_id}",
        "file_name": name,
        "mime_type": "application/pdf",
        "file_size": 9,
    }
    return update(**message(document=document))


def replying(*responses: dict[str, Any]) -> Script:
    async def script(message: UserMessage) -> None:
        for response in responses:
            await message.output_channel.send_response(message.sender_id, dict(response))

    return script


def inline_keyboard(params: dict[str, Any]) -> list[list[dict[str, Any]]]:
    return params["reply_markup"]["inline_keyboard"]


# --------------------------------------------------------------------------- webhook security


async def test_health(harness: Harness) -> None:
    answer = await harness.client.get("/webhooks/telegram/")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + "x", SECRET[:-1]])
async def test_missing_or_wrong_secret_is_refused_and_nothing_processed(
    harness: Harness, secret: str | None
) -> None:
    answer = await harness.post(text_update("Bonjour"), secret=secret)
    assert answer.status_code == 403
    assert harness.attempts == 0
    assert harness.fake.calls == []


def test_a_secret_token_is_required() -> None:
    with pytest.raises(ValueError, match="secret token"):
        TelegramInput.from_credentials({"access_token": TOKEN, "webhook_url": "https://x"})
    with pytest.raises(ValueError, match="secret token"):
        TelegramInput(TOKEN, "spaces are not allowed")


def test_the_credentials_block_for_credentials_yml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_SECRET_TOKEN", SECRET)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "https://bot.example.org" + WEBHOOK)
    credentials = tmp_path / "credentials.yml"
    credentials.write_text(CREDENTIALS_BLOCK, encoding="utf-8")

    (channel,) = create_http_input_channels(None, str(credentials))

    assert isinstance(channel, TelegramInput)
    assert channel.url_prefix() == "telegram"
    assert channel.secret_token == SECRET
    assert channel.webhook_url == "https://bot.example.org" + WEBHOOK
    assert channel.output.bot.base_url == f"https://api.telegram.org/bot{TOKEN}"


def test_from_credentials() -> None:
    channel = TelegramInput.from_credentials(
        {
            "access_token": TOKEN,
            "secret_token": SECRET,
            "webhook_url": "https://bot.example.org/webhooks/telegram/webhook",
            "base_url": "http://127.0.0.1:8081/bot/",
        }
    )
    assert isinstance(channel, TelegramInput)
    assert channel.name() == "telegram"
    assert channel.get_output_channel() is channel.output
    assert channel.output.bot.base_url == f"http://127.0.0.1:8081/bot{TOKEN}"
    assert channel.output.bot.base_file_url == f"http://127.0.0.1:8081/file/bot{TOKEN}"


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"update_id": "x"}'])
async def test_malformed_bodies_are_refused_without_error(harness: Harness, body: bytes) -> None:
    answer = await harness.client.post(
        WEBHOOK,
        content=body,
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert harness.attempts == 0


# --------------------------------------------------------------------------- messages


async def test_text_reaches_rasa_and_the_reply_is_sent(harness: Harness) -> None:
    sent = text_update("Quel est mon solde ?")
    answer = await harness.post(sent)

    assert answer.status_code == 200
    (received,) = harness.received
    assert received.text == "Quel est mon solde ?"
    assert received.sender_id == f"telegram:{CHAT}"
    assert received.input_channel == "telegram"
    assert received.output_channel is harness.channel.output
    assert received.metadata == {
        "telegram": {
            "update_id": sent["update_id"],
            "message_id": sent["message"]["message_id"],
            "language_code": "fr",
        }
    }
    (reply,) = harness.fake.sent("sendMessage")
    assert reply["chat_id"] == str(CHAT)
    assert reply["text"] == "Bien reçu."
    assert reply["link_preview_options"] == {"is_disabled": True}
    assert "parse_mode" not in reply  # plain text: a tenant's "_" or "*" is never markup


async def test_start_command_greets(harness: Harness) -> None:
    await harness.post(text_update("/start"))
    assert harness.texts == ["/greet"]
    assert command_as_text("/start@ophea_test_bot campagne") == "/greet"
    assert command_as_text("/autre") == "/autre"
    assert command_as_text("bonjour /start") == "bonjour /start"


async def test_buttons_become_an_inline_keyboard_one_per_row(harness: Harness) -> None:
    harness.script = replying(
        {
            "text": "Voulez-vous continuer ?",
            "buttons": [
                {"title": "Oui", "payload": "/affirm"},
                {"title": "Non", "payload": "/deny"},
            ],
        }
    )
    await harness.post(text_update("Je veux payer"))

    (reply,) = harness.fake.sent("sendMessage")
    assert reply["text"] == "Voulez-vous continuer ?"
    assert inline_keyboard(reply) == [
        [{"text": "Oui", "callback_data": "/affirm"}],
        [{"text": "Non", "callback_data": "/deny"}],
    ]


async def test_a_button_press_sends_its_payload_and_is_answered(harness: Harness) -> None:
    answer = await harness.post(button_update("/affirm"))

    assert answer.status_code == 200
    (received,) = harness.received
    assert received.text == "/affirm"
    assert received.sender_id == f"telegram:{CHAT}"
    assert received.metadata["telegram"]["button"] is True
    (answered,) = harness.fake.sent("answerCallbackQuery")
    assert answered["callback_query_id"] == "query-1"
    assert "text" not in answered
    assert harness.fake.texts() == ["Bien reçu."]


async def test_a_payload_too_long_for_telegram_goes_through_a_short_id(harness: Harness) -> None:
    long_payload = '/inform{"insurer": "Mutuelle d\'assurance des locataires du Grand Est"}'
    assert len(long_payload.encode()) > 64
    harness.script = replying(
        {"text": "Votre assureur ?", "buttons": [{"title": "MAGE", "payload": long_payload}]}
    )
    await harness.post(text_update("assurance"))
    ((button,),) = inline_keyboard(harness.fake.sent("sendMessage")[0])
    assert button["callback_data"].startswith(CALLBACK_PREFIX)
    assert len(button["callback_data"].encode()) <= 64

    harness.script = echo
    await harness.post(button_update(button["callback_data"]))
    assert harness.texts[-1] == long_payload

    # Another chat cannot use this chat's short id.
    await harness.post(button_update(button["callback_data"], chat_id=CHAT + 1))
    assert len(harness.received) == 2


async def test_a_forgotten_short_id_is_answered_not_guessed(harness: Harness) -> None:
    answer = await harness.post(button_update(CALLBACK_PREFIX + "0123456789abcdef0123"))

    assert answer.status_code == 200
    assert harness.attempts == 0
    (answered,) = harness.fake.sent("answerCallbackQuery")
    assert answered["text"] == NOTICES["button_expired"]


async def test_long_texts_are_split_and_images_sent(harness: Harness) -> None:
    harness.script = replying(
        {"text": ("Paragraphe. " * 300 + "\n\n") * 2},
        {"image": "https://example.org/plan.png"},
        {"custom": {"widget_only": True}},
    )
    await harness.post(text_update("infos"))

    texts = harness.fake.texts()
    assert len(texts) == 2
    assert all(len(text) <= 4096 for text in texts)
    (photo,) = harness.fake.sent("sendPhoto")
    assert photo["photo"] == "https://example.org/plan.png"
    assert list(split_text("court")) == ["court"]


# --------------------------------------------------------------------------- files


def upload_link_reply(fake: FakeTelegram, token: str) -> Script:
    return replying(
        {
            "text": "Joignez votre attestation avec ce lien sécurisé : "
            f"{fake.upload_url(token)}\nQuand c'est fait, écrivez « c'est envoyé ».",
            "buttons": [{"title": "C'est envoyé", "payload": "/affirm"}],
        }
    )


async def test_a_document_goes_to_the_pending_upload_link(harness: Harness) -> None:
    fake = harness.fake
    fake.add_file("doc-1", b"%PDF-1.4\n", "documents/file_7.pdf")
    harness.script = upload_link_reply(fake, "Tok3nAbcdefGh12345")
    await harness.post(text_update("je mets à jour mon assurance"))

    harness.script = echo
    answer = await harness.post(document_update("doc-1", "attestation.pdf"))

    assert answer.status_code == 200
    (upload,) = fake.uploads
    assert upload.token == "Tok3nAbcdefGh12345"
    assert upload.filename == "attestation.pdf"
    assert upload.content_type == "application/pdf"
    assert upload.data == b"%PDF-1.4\n"
    assert harness.texts[-1] == FILE_SENT_TEXT
    assert harness.received[-1].metadata["telegram"]["attachment"] is True

    # The link served once: another file now has nowhere to go.
    await harness.post(document_update("doc-1"))
    assert fake.texts()[-1] == NOTICES["nothing_to_attach"]
    assert len(fake.uploads) == 1


async def test_a_photo_goes_to_the_pending_upload_link(harness: Harness) -> None:
    fake = harness.fake
    fake.add_file("big", b"\xff\xd8\xffjpeg", "photos/file_2.jpg")
    harness.script = upload_link_reply(fake, "PhotoTok3n12345678")
    await harness.post(text_update("prélèvement"))

    harness.script = echo
    sizes = [
        {"file_id": "small", "file_unique_id": "us", "width": 90, "height": 90},
        {"file_id": "big", "file_unique_id": "ub", "width": 1280, "height": 960},
    ]
    await harness.post(update(**message(photo=sizes)))

    (upload,) = fake.uploads
    assert (upload.filename, upload.content_type, upload.data) == (
        "photo.jpg",
        "image/jpeg",
        b"\xff\xd8\xffjpeg",
    )
    assert harness.texts[-1] == FILE_SENT_TEXT


async def test_a_document_without_a_pending_link_gets_a_polite_reply(harness: Harness) -> None:
    harness.fake.add_file("doc-1", b"%PDF-1.4\n")
    answer = await harness.post(document_update())

    assert answer.status_code == 200
    assert harness.attempts == 0
    assert harness.fake.texts() == [NOTICES["nothing_to_attach"]]
    assert harness.fake.sent("getFile") == []


async def test_a_file_the_upload_page_refuses_is_explained(harness: Harness) -> None:
    fake = harness.fake
    fake.add_file("doc-1", b"not a pdf")
    harness.script = upload_link_reply(fake, "Tok3nAbcdefGh12345")
    await harness.post(text_update("assurance"))
    fake.upload_status = 400

    answer = await harness.post(document_update())

    assert answer.status_code == 200
    assert fake.texts()[-1] == NOTICES["file_refused"]
    assert len(harness.received) == 1  # "c'est envoyé" not sent: nothing arrived
    assert await harness.channel.output.upload_links.pending(str(CHAT))  # may try again


async def test_an_unreachable_upload_page_makes_telegram_retry(harness: Harness) -> None:
    fake = harness.fake
    fake.add_file("doc-1", b"%PDF-1.4\n")
    harness.script = upload_link_reply(fake, "Tok3nAbcdefGh12345")
    await harness.post(text_update("assurance"))
    harness.script = echo
    fake.fail("upload", status=503, description="Service Unavailable")
    sent = document_update()

    assert (await harness.post(sent)).status_code == 500
    assert (await harness.post(sent)).status_code == 200
    assert len(fake.uploads) == 1
    assert harness.texts[-1] == FILE_SENT_TEXT


async def test_a_document_reaches_the_real_portal_upload_page(
    harness: Harness, portal: Portal
) -> None:
    conversation = str(CHAT)
    await verify_conversation(portal, NGUYEN, conversation)
    slot = await new_slot(portal, conversation)
    harness.fake.add_file("rib", pdf_file(), "documents/rib.pdf")
    link_reply = replying({"text": f"Joignez votre RIB : {slot['upload_url']}\nPuis écrivez…"})
    harness.script = link_reply
    await harness.post(text_update("prélèvement"))

    harness.script = echo
    assert (await harness.post(document_update("rib", "mon rib.pdf"))).status_code == 200
    assert harness.texts[-1] == FILE_SENT_TEXT
    state = (await status_of(portal, conversation, slot["slot_id"])).json()
    assert state["status"] == "received"

    # The same link again (used): the form is told, and asks the portal itself.
    harness.script = link_reply
    await harness.post(text_update("encore"))
    harness.script = echo
    assert (await harness.post(document_update("rib"))).status_code == 200
    assert harness.texts[-1] == FILE_SENT_TEXT
    assert await harness.channel.output.upload_links.pending(conversation) is None


# --------------------------------------------------------------------------- other messages

STICKER = {
    "file_id": "st",
    "file_unique_id": "ust",
    "type": "regular",
    "width": 512,
    "height": 512,
    "is_animated": False,
    "is_video": False,
}


@pytest.mark.parametrize(
    ("sent", "notice"),
    [
        pytest.param(lambda: update(**message(sticker=STICKER)), "text_only", id="sticker"),
        pytest.param(
            lambda: update(
                **message(voice={"file_id": "v", "file_unique_id": "uv", "duration": 2})
            ),
            "text_only",
            id="voice",
        ),
        pytest.param(
            lambda: update(**message(location={"latitude": 48.58, "longitude": 7.75})),
            "text_only",
            id="location",
        ),
        pytest.param(
            lambda: update("edited_message", **message(text="Bonjour", edit_date=1_700_000_100)),
            "edited",
            id="edited",
        ),
        pytest.param(
            lambda: update(**message(chat_type="group", text="Bonjour")), "not_private", id="group"
        ),
        pytest.param(
            lambda: update("channel_post", **message(chat_type="channel", text="Annonce")),
            "not_private",
            id="channel-post",
        ),
    ],
)
async def test_what_rasa_cannot_read_gets_a_polite_reply(
    harness: Harness, sent: Callable[[], dict[str, Any]], notice: str
) -> None:
    answer = await harness.post(sent())

    assert answer.status_code == 200
    assert harness.attempts == 0
    assert harness.fake.texts() == [NOTICES[notice]]


async def test_an_update_of_another_kind_is_acknowledged(harness: Harness) -> None:
    poll = {"update_id": next(_ids), "poll_answer": {"poll_id": "p", "option_ids": [0]}}
    poll["poll_answer"]["user"] = _user(CHAT)
    answer = await harness.post(poll)
    assert answer.status_code == 200
    assert harness.attempts == 0
    assert harness.fake.calls == []


# --------------------------------------------------------------------------- reliability


async def test_a_rasa_failure_answers_500_and_the_retry_is_handled_once(harness: Harness) -> None:
    failures = [RuntimeError("tracker store down")]

    async def flaky(message: UserMessage) -> None:
        if failures:
            raise failures.pop()
        await echo(message)

    harness.script = flaky
    sent = text_update("Mon loyer", update_id=5000)

    assert (await harness.post(sent)).status_code == 500
    assert harness.received == []
    assert (await harness.post(sent)).status_code == 200
    assert (await harness.post(sent)).json() == {"status": "duplicate"}
    assert harness.attempts == 2
    assert harness.texts == ["Mon loyer"]
    assert harness.fake.texts() == ["Bien reçu."]


async def test_a_retry_arriving_during_the_first_attempt_waits_for_it(harness: Harness) -> None:
    release = asyncio.Event()

    async def slow(message: UserMessage) -> None:
        await release.wait()
        await echo(message)

    harness.script = slow
    sent = text_update("Mon loyer", update_id=6000)
    first = asyncio.create_task(harness.post(sent))
    second = asyncio.create_task(harness.post(sent))
    await asyncio.sleep(0.1)
    release.set()

    statuses = sorted([(await first).json()["status"], (await second).json()["status"]])
    assert statuses == ["duplicate", "ok"]
    assert harness.attempts == 1


async def test_telegram_hanging_up_does_not_cut_rasa_short(harness: Harness) -> None:
    release = asyncio.Event()

    async def slow(message: UserMessage) -> None:
        await release.wait()
        await echo(message)

    harness.script = slow
    sent = text_update("Mon loyer", update_id=6100)
    with pytest.raises(httpx.ReadTimeout):
        await harness.client.post(
            WEBHOOK, json=sent, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}, timeout=0.2
        )
    release.set()

    assert (await harness.post(sent)).json() == {"status": "duplicate"}
    assert harness.attempts == 1
    assert harness.texts == ["Mon loyer"]
    assert harness.fake.texts() == ["Bien reçu."]


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param({"status": 502, "description": "Bad Gateway"}, id="network"),
        pytest.param(
            {"status": 429, "description": "Too Many Requests", "retry_after": 1}, id="flood"
        ),
    ],
)
async def test_a_failed_send_is_retried(harness: Harness, failure: dict[str, Any]) -> None:
    harness.fake.fail("sendMessage", times=2, **failure)

    answer = await harness.post(text_update("Bonjour"))

    assert answer.status_code == 200
    assert harness.fake.failures_left("sendMessage") == 0
    assert harness.fake.texts() == ["Bien reçu."]


async def test_a_send_failing_every_time_makes_telegram_retry(harness: Harness) -> None:
    harness.fake.fail("sendMessage", times=4)
    sent = text_update("Bonjour")

    assert (await harness.post(sent)).status_code == 500
    assert (await harness.post(sent)).status_code == 200
    assert harness.fake.texts() == ["Bien reçu."]


async def test_a_send_telegram_refuses_for_good_is_not_retried(harness: Harness) -> None:
    harness.fake.fail("sendMessage", status=403, description="Forbidden: bot was blocked")

    answer = await harness.post(text_update("Bonjour"))

    assert answer.status_code == 200
    assert harness.texts == ["Bonjour"]
    assert harness.fake.texts() == []


async def test_memory_stays_bounded() -> None:
    button_store, link_store = MemoryStore(size=3), MemoryStore(size=3)
    buttons = ShortButtonIds(button_store)
    payloads = ["/inform" + "x" * 64 + str(number) for number in range(5)]
    await buttons.remember("1", payloads)
    assert len(button_store) == 3
    assert await buttons.payload_of("1", callback_data(payloads[4])) == payloads[4]
    assert await buttons.payload_of("1", callback_data(payloads[0])) is None
    assert await buttons.payload_of("2", callback_data(payloads[4])) is None  # per chat

    links = UploadLinks(link_store)
    for chat in range(5):
        await links.remember(str(chat), f"https://p.example.org/depot/Abc{chat}def")
    assert len(link_store) == 3
    assert await links.pending("4") == "https://p.example.org/depot/Abc4def"
    assert await links.pending("0") is None


# --------------------------------------------------------------------------- logs


async def test_logs_name_update_and_chat_never_what_was_written(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    harness.fake.add_file("doc-1", b"%PDF-1.4\n")
    harness.script = replying({"text": "Votre solde est de 412,50 € zanzibar-reply"})
    sent = text_update("mon secret zanzibar-question", update_id=7000)
    await harness.post(sent)
    harness.fake.fail("sendMessage")
    harness.script = upload_link_reply(harness.fake, "Tok3nAbcdefGh12345")
    await harness.post(text_update("zanzibar-again"))
    harness.script = echo
    await harness.post(document_update("doc-1", "zanzibar-file.pdf"))

    logged = caplog.text
    assert "zanzibar" not in logged
    assert "Tok3nAbcdefGh12345" not in logged
    assert TOKEN not in logged and TOKEN.split(":")[1] not in logged
    assert "7000" in logged and str(CHAT) in logged


# --------------------------------------------------------------------------- webhook set-up


async def test_set_webhook_sends_the_secret_token(fake: FakeTelegram) -> None:
    url = "https://bot.example.org/webhooks/telegram/webhook"
    registered = await set_webhook(TOKEN, url, SECRET, base_url=fake.url)

    assert registered.bot_username == BOT_USER["username"]
    (call,) = fake.sent("setWebhook")
    assert call["url"] == url
    assert call["secret_token"] == SECRET
    assert call["allowed_updates"] == ["message", "edited_message", "callback_query"]
    assert api_root(None) == "https://api.telegram.org"


async def test_set_webhook_refuses_a_malformed_secret(fake: FakeTelegram) -> None:
    with pytest.raises(ValueError):
        await set_webhook(TOKEN, "https://x", "pas de secret", base_url=fake.url)
    assert fake.calls == []


async def test_cli_sets_the_webhook(
    fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TELEGRAM_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "https://bot.example.org/webhooks/telegram/webhook")
    monkeypatch.setenv("TELEGRAM_SECRET_TOKEN", SECRET)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", fake.url)

    # The command runs its own event loop: in a thread, beside the fake's.
    status = await asyncio.to_thread(cli.main, ["telegram-set-webhook"])

    assert status == 0
    assert fake.sent("setWebhook")[0]["secret_token"] == SECRET
    out = capsys.readouterr().out
    assert "@ophea_test_bot" in out
    assert SECRET not in out and TOKEN not in out


async def test_cli_names_the_missing_variables(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TELEGRAM_ACCESS_TOKEN", TOKEN)
    monkeypatch.delenv("TELEGRAM_WEBHOOK_URL", raising=False)
    monkeypatch.setenv("TELEGRAM_SECRET_TOKEN", "")

    assert cli.main(["telegram-set-webhook"]) == 2
    err = capsys.readouterr().err
    assert "TELEGRAM_WEBHOOK_URL" in err and "TELEGRAM_SECRET_TOKEN" in err
    assert "TELEGRAM_ACCESS_TOKEN" not in err


async def test_cli_reports_a_refused_token(
    fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = "987654321:AAwrongwrongwrongwrongwrongwrong12"
    monkeypatch.setenv("TELEGRAM_ACCESS_TOKEN", wrong)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "https://bot.example.org/webhooks/telegram/webhook")
    monkeypatch.setenv("TELEGRAM_SECRET_TOKEN", SECRET)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", fake.url)

    assert await asyncio.to_thread(cli.main, ["telegram-set-webhook"]) == 1
    err = capsys.readouterr().err
    assert "TELEGRAM_ACCESS_TOKEN" in err
    assert wrong not in err


# --------------------------------------------------------------------------- size limit


async def test_a_huge_message_is_answered_by_the_channel_and_never_reaches_rasa(
    harness: Harness,
) -> None:
    answer = await harness.post(text_update("loyer " * 20_000))  # 120 000 characters

    assert answer.status_code == 200
    assert harness.attempts == 0
    (reply,) = harness.fake.texts()
    assert reply == too_long_reply(MESSAGE_MAX_CHARS)
    assert "1\u202f000 caractères" in reply

    await harness.post(text_update("x" * MESSAGE_MAX_CHARS))
    assert harness.texts == ["x" * MESSAGE_MAX_CHARS]


# --------------------------------------------------------------------------- several servers


@pytest.fixture
async def two_servers(
    fake: FakeTelegram, shared_state: Callable[[], ChannelState]
) -> AsyncIterator[tuple[Harness, Harness]]:
    """Two Rasa servers' Telegram channels, each its own process state, sharing one Redis."""
    async with (
        serving(telegram_channel(fake, shared_state()), fake) as first,
        serving(telegram_channel(fake, shared_state()), fake) as second,
    ):
        yield first, second


def slowly(seconds: float) -> Script:
    async def script(message: UserMessage) -> None:
        await asyncio.sleep(seconds)
        await echo(message)

    return script


async def test_one_update_sent_to_two_servers_is_handled_once(
    two_servers: tuple[Harness, Harness],
) -> None:
    first, second = two_servers
    first.script = second.script = slowly(0.3)
    sent = text_update("Bonjour")

    answers = await asyncio.gather(first.post(sent), second.post(sent))

    assert [answer.status_code for answer in answers] == [200, 200]
    assert sorted(answer.json()["status"] for answer in answers) == ["duplicate", "ok"]
    assert first.texts + second.texts == ["Bonjour"]
    assert first.fake.texts() == ["Bien reçu."]


async def test_an_update_failing_on_one_server_is_handled_by_the_retry_on_another(
    two_servers: tuple[Harness, Harness],
) -> None:
    first, second = two_servers

    async def failing(message: UserMessage) -> None:
        raise RuntimeError("Rasa down")

    first.script = failing
    sent = text_update("Bonjour")

    assert (await first.post(sent)).status_code == 500
    assert (await second.post(sent)).json() == {"status": "ok"}
    assert (await first.post(sent)).json() == {"status": "duplicate"}
    assert second.texts == ["Bonjour"]


async def test_an_upload_link_sent_by_one_server_takes_the_file_sent_to_another(
    two_servers: tuple[Harness, Harness],
) -> None:
    first, second = two_servers
    first.fake.add_file("doc-1", b"%PDF-1.4\n")
    first.script = upload_link_reply(first.fake, "Tok3nAbcdefGh12345")
    await first.post(text_update("assurance"))

    assert (await second.post(document_update())).status_code == 200

    (upload,) = first.fake.uploads
    assert upload.token == "Tok3nAbcdefGh12345"
    assert second.texts == [FILE_SENT_TEXT]
    assert await first.channel.output.upload_links.pending(str(CHAT)) is None


async def test_a_long_button_sent_by_one_server_is_understood_by_another(
    two_servers: tuple[Harness, Harness],
) -> None:
    first, second = two_servers
    payload = '/inform{"document": "' + "attestation d'assurance habitation " * 3 + '"}'
    first.script = replying({"text": "Lequel ?", "buttons": [{"title": "Oui", "payload": payload}]})
    await first.post(text_update("document"))
    (row,) = inline_keyboard(first.fake.sent("sendMessage")[-1])

    await second.post(button_update(row[0]["callback_data"]))

    assert second.texts == [payload]


# --------------------------------------------------------------------------- Bot API server


async def test_a_bot_built_from_the_environment_replies_through_that_server(
    fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", fake.url)
    channel = TelegramInput.from_credentials(
        {"access_token": TOKEN, "secret_token": SECRET, "webhook_url": "https://x" + WEBHOOK}
    )
    assert isinstance(channel, TelegramInput)
    assert channel.output.bot.base_url == f"{fake.url}/bot{TOKEN}"
    assert channel.output.bot.base_file_url == f"{fake.url}/file/bot{TOKEN}"

    async with serving(channel, fake) as running:
        assert (await running.post(text_update("Bonjour"))).status_code == 200

    assert fake.texts() == ["Bien reçu."]


async def test_the_run_command_points_rasa_s_channel_at_that_server(
    fake: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "TELEGRAM_ACCESS_TOKEN": TOKEN,
        "TELEGRAM_SECRET_TOKEN": SECRET,
        "TELEGRAM_WEBHOOK_URL": "https://bot.example.org" + WEBHOOK,
        "TELEGRAM_API_BASE_URL": fake.url,
    }.items():
        monkeypatch.setenv(name, value)
    credentials = tmp_path / "credentials.yml"
    write_credentials(PROJECT_ROOT, credentials, os.environ)
    written = yaml.safe_load(credentials.read_text(encoding="utf-8"))
    assert written["bot.channels.telegram.TelegramInput"]["base_url"] == "${TELEGRAM_API_BASE_URL}"

    channels = create_http_input_channels(None, str(credentials))

    (channel,) = [channel for channel in channels if isinstance(channel, TelegramInput)]
    assert channel.output.bot.base_url == f"{fake.url}/bot{TOKEN}"
