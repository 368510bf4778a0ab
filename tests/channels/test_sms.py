"""The SMS channel over real sockets: Twilio's signed webhook in, a fake Twilio REST API out.

::

    test ──signed form──> Sanic app with SmsInput's blueprint ──> FakeBot (plays Rasa)
                                     │ SmsOutput (twilio's client)
                                     v
                              FakeTwilio (records Messages.json)
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from rasa.core.channels.channel import UserMessage, register
from rasa.shared.exceptions import RasaException
from sanic import Sanic
from twilio.request_validator import RequestValidator

from bot.channels.limits import too_long_reply
from bot.channels.sms import SmsInput
from bot.channels.sms.log_safe import loggable_sid, mask_phone
from bot.channels.sms.memory import ChoiceMemory
from bot.channels.sms.opt_outs import OptOutStore
from bot.channels.sms.text import SMS_PART_LIMIT, choice_number, keyword, split_message
from bot.channels.sms.twilio_api import RetryPolicy
from bot.channels.sms.wording import load_wording
from bot.channels.state import ChannelState, MemoryStore
from bot.settings import MESSAGE_MAX_CHARS, Settings
from tests.channels.fake_twilio import FakeTwilio, SentSms, running_fake_twilio
from tests.portal.support import eventually, serve

ACCOUNT_SID = "AC" + "1f" * 16
AUTH_TOKEN = "test-twilio-auth-token"
TWILIO_NUMBER = "+33757000000"
TENANT = "+33612345678"
# What Twilio posts to: the public URL, not the loopback address the test server listens on.
WEBHOOK_URL = "https://assistant.example.org/webhooks/sms/webhook"
WORDING = load_wording()

MENU = {
    "text": "Que souhaitez-vous faire ?",
    "buttons": [
        {"title": "Payer mon loyer", "payload": "/pay_rent"},
        {"title": "Voir mon solde", "payload": "/check_balance"},
        {"title": "Autre chose", "payload": "une autre question"},
    ],
}
UPLOAD_URL = "https://portail.example.org/depot/" + "a" * 48 + "?document=attestation&format=pdf"
LONG_TEXT = "\n\n".join(
    [
        "Pour mettre à jour votre assurance habitation, préparez votre attestation. " * 4,
        "Ouvrez ce lien sur votre téléphone pour envoyer le document : "
        f"{UPLOAD_URL} puis validez. Le lien reste valable 24 heures.",
        "Nos équipes vérifient l'attestation sous 48 heures. " * 9,
        "Si vous avez une question, écrivez-nous ici.",
    ]
)


@dataclass
class FakeBot:
    """Plays Rasa: records each message, answers through the message's output channel."""

    received: list[UserMessage] = field(default_factory=list)
    delay: float = 0.0
    script: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {"menu": MENU, "lien": {"text": LONG_TEXT}}
    )

    @property
    def texts(self) -> list[str]:
        return [message.text or "" for message in self.received]

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        await asyncio.sleep(self.delay)
        reply = self.script.get(message.text or "", {"text": f"Bien reçu : {message.text}"})
        await message.output_channel.send_response(message.sender_id, dict(reply))


@dataclass
class SmsHarness:
    channel: SmsInput
    bot: FakeBot
    twilio: FakeTwilio
    client: httpx.AsyncClient

    async def post(
        self,
        body: str = "bonjour",
        *,
        sid: str | None = None,
        sender: str = TENANT,
        signature: str | None = "computed",
        **extra: str,
    ) -> httpx.Response:
        """Post Twilio's webhook form, signed as Twilio signs it unless told otherwise."""
        form = {
            "MessageSid": sid or f"SM{uuid.uuid4().hex}",
            "AccountSid": ACCOUNT_SID,
            "From": sender,
            "To": TWILIO_NUMBER,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
            **extra,
        }
        headers = {}
        if signature == "computed":
            signature = RequestValidator(AUTH_TOKEN).compute_signature(WEBHOOK_URL, form)
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        return await self.client.post("/webhooks/sms/webhook", data=form, headers=headers)

    async def say(self, body: str, **kwargs: Any) -> httpx.Response:
        """Post a message and wait until the channel has handled it."""
        answer = await self.post(body, **kwargs)
        assert answer.status_code == 200, answer.text
        await self.channel.wait_idle(10)
        return answer


def sms_channel(tmp_path: Path, twilio: FakeTwilio, state: ChannelState | None = None) -> SmsInput:
    """The channel as the tests configure it, replying through ``twilio``."""
    return SmsInput(
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        twilio_number=TWILIO_NUMBER,
        webhook_url=WEBHOOK_URL,
        opt_out_db=tmp_path / "sms_opt_out.sqlite3",
        api_base_url=twilio.base_url,
        retry=RetryPolicy(attempts=3, first_delay=0.01, timeout=5),
        state=state,
    )


@asynccontextmanager
async def serving(channel: SmsInput, twilio: FakeTwilio) -> AsyncIterator[SmsHarness]:
    """``channel`` served on a Sanic app of its own, as one Rasa server serves it."""
    bot = FakeBot()
    app = Sanic(f"sms_channel_{uuid.uuid4().hex}")
    # Mounted as the Rasa server mounts its input channels, the bot in the agent's place.
    app.ctx.agent = SimpleNamespace(handle_message=bot)
    register([channel], app, route="/webhooks/")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        async with serve(app, sock), httpx.AsyncClient(base_url=base_url, timeout=10) as client:
            yield SmsHarness(channel=channel, bot=bot, twilio=twilio, client=client)


@pytest.fixture
async def sms(tmp_path: Path) -> AsyncIterator[SmsHarness]:
    async with (
        running_fake_twilio(ACCOUNT_SID, AUTH_TOKEN) as twilio,
        serving(sms_channel(tmp_path, twilio), twilio) as harness,
    ):
        yield harness


# --------------------------------------------------------------------------- webhook


async def test_health_route(sms: SmsHarness) -> None:
    answer = await sms.client.get("/webhooks/sms/")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


async def test_signed_message_reaches_rasa_and_reply_goes_through_rest_api(
    sms: SmsHarness,
) -> None:
    answer = await sms.say("Bonjour", sid="SM" + "ab" * 16)

    assert answer.headers["content-type"].startswith("text/xml")
    assert re.fullmatch(r'<\?xml version="1.0" encoding="UTF-8"\?><Response ?/>', answer.text)
    (message,) = sms.bot.received
    assert (message.text, message.sender_id, message.input_channel) == (
        "Bonjour",
        f"sms:{TENANT}",
        "sms",
    )
    assert message.message_id == "SM" + "ab" * 16
    assert sms.twilio.sent == [SentSms(to=TENANT, body="Bien reçu : Bonjour", sender=TWILIO_NUMBER)]


def _signature_for(form: dict[str, str], url: str = WEBHOOK_URL) -> str:
    return RequestValidator(AUTH_TOKEN).compute_signature(url, form)


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("bm90IGEgc2lnbmF0dXJl", id="wrong"),
        pytest.param(_signature_for({"Body": "autre chose"}), id="other-body"),
        pytest.param(
            RequestValidator("another-token").compute_signature(WEBHOOK_URL, {}), id="other-token"
        ),
    ],
)
async def test_unsigned_or_wrongly_signed_is_refused_and_nothing_processed(
    sms: SmsHarness, signature: str | None
) -> None:
    answer = await sms.post("STOP", signature=signature)
    await sms.channel.wait_idle(5)

    assert answer.status_code == 403
    assert sms.bot.received == []
    assert sms.twilio.attempts == 0
    assert not await sms.channel.opt_outs.contains(TENANT)


async def test_signature_for_another_url_is_refused(sms: SmsHarness) -> None:
    form = {"MessageSid": "SM" + "0" * 32, "From": TENANT, "Body": "bonjour"}
    signature = _signature_for(form, "https://attacker.example.net/webhooks/sms/webhook")
    answer = await sms.client.post(
        "/webhooks/sms/webhook", data=form, headers={"X-Twilio-Signature": signature}
    )
    assert answer.status_code == 403
    await sms.channel.wait_idle(5)
    assert sms.bot.received == []


async def test_webhook_answers_before_the_turn_ends(sms: SmsHarness) -> None:
    sms.bot.delay = 1.0

    answer = await sms.post("bonjour")

    assert answer.status_code == 200
    assert sms.twilio.sent == []  # Twilio has its answer; the reply follows through the API

    async def replied() -> bool:
        return len(sms.twilio.sent) == 1

    await eventually(replied, what="reply after a slow turn")


async def test_one_numbers_messages_are_handled_in_arrival_order(sms: SmsHarness) -> None:
    sms.bot.delay = 0.2
    for text in ("un", "deux", "trois"):
        assert (await sms.post(text)).status_code == 200
    await sms.channel.wait_idle(10)

    assert sms.bot.texts == ["un", "deux", "trois"]
    assert sms.twilio.bodies == [f"Bien reçu : {text}" for text in ("un", "deux", "trois")]


async def test_duplicate_message_sid_is_processed_once(sms: SmsHarness) -> None:
    sid = f"SM{uuid.uuid4().hex}"
    first = await sms.say("bonjour", sid=sid)
    again = await sms.say("bonjour", sid=sid)

    assert first.status_code == again.status_code == 200
    assert sms.bot.texts == ["bonjour"]
    assert len(sms.twilio.sent) == 1


async def test_form_without_sender_is_a_bad_request(sms: SmsHarness) -> None:
    form = {"MessageSid": "SM" + "0" * 32, "Body": "bonjour"}
    answer = await sms.client.post(
        "/webhooks/sms/webhook", data=form, headers={"X-Twilio-Signature": _signature_for(form)}
    )
    assert answer.status_code == 400
    assert sms.bot.received == []


# --------------------------------------------------------------------------- choices


async def test_buttons_become_numbered_choices_and_the_number_maps_back(sms: SmsHarness) -> None:
    await sms.say("menu")

    assert sms.twilio.bodies == [
        "Que souhaitez-vous faire ?\n\n"
        "1. Payer mon loyer\n2. Voir mon solde\n3. Autre chose\n\n"
        "Répondez 1, 2 ou 3."
    ]

    await sms.say(" 2 ")
    assert sms.bot.texts[-1] == "/check_balance"

    await sms.say("menu")
    await sms.say("3")
    assert sms.bot.texts[-1] == "une autre question"  # a plain-text payload

    # The choices answer the next message only.
    await sms.say("1")
    assert sms.bot.texts[-1] == "1"


@pytest.mark.parametrize("answer", ["7", "0", "2 pièces", "deux"])
async def test_other_answers_go_through_as_typed(sms: SmsHarness, answer: str) -> None:
    await sms.say("menu")
    await sms.say(answer)
    assert sms.bot.texts[-1] == answer


async def test_a_number_without_choices_goes_through_as_typed(sms: SmsHarness) -> None:
    await sms.say("2")
    assert sms.bot.texts == ["2"]


async def test_choices_are_per_phone_number(sms: SmsHarness) -> None:
    await sms.say("menu")
    await sms.say("2", sender="+33698765432")
    assert sms.bot.texts[-1] == "2"
    await sms.say("2")
    assert sms.bot.texts[-1] == "/check_balance"


async def test_choices_expire_and_the_memory_is_bounded() -> None:
    now = [0.0]
    memory = ChoiceMemory(MemoryStore(size=2, clock=lambda: now[0]), ttl=60)
    await memory.remember("+331", ["/a"])
    now[0] = 61
    assert await memory.take("+331") == []

    for phone in ("+331", "+332", "+333"):
        await memory.remember(phone, ["/b"])
    assert await memory.take("+331") == []  # the oldest was forgotten
    assert await memory.take("+333") == ["/b"]
    assert await memory.take("+333") == []


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("1", 1),
        (" 2 ", 2),
        ("3.", 3),
        ("4)", 4),
        ("12", 12),
        ("2 3", None),
        ("un", None),
        ("", None),
    ],
)
def test_choice_number(text: str, number: int | None) -> None:
    assert choice_number(text) == number


# --------------------------------------------------------------------------- long replies


def _unnumbered(part: str) -> str:
    return re.sub(r"^\(\d+/\d+\) ", "", part)


async def test_long_reply_is_split_in_order_without_cutting_the_link(sms: SmsHarness) -> None:
    await sms.say("lien")

    parts = sms.twilio.bodies
    assert len(parts) > 1
    assert all(len(part) <= SMS_PART_LIMIT for part in parts)
    assert [part.split(" ")[0] for part in parts] == [
        f"({i}/{len(parts)})" for i in range(1, len(parts) + 1)
    ]
    assert sum(UPLOAD_URL in part for part in parts) == 1
    assert " ".join(_unnumbered(part) for part in parts).split() == LONG_TEXT.split()


def test_split_prefers_paragraphs_then_sentences_then_words() -> None:
    paragraphs = ["a" * 30 + ".", "b" * 30 + ".", "c" * 30 + "."]
    assert split_message("\n\n".join(paragraphs), 70) == [
        f"(1/2) {paragraphs[0]}\n\n{paragraphs[1]}",
        f"(2/2) {paragraphs[2]}",
    ]

    sentences = "Première phrase assez longue. Deuxième phrase assez longue. Troisième."
    assert split_message(sentences, 50) == [
        "(1/2) Première phrase assez longue.",
        "(2/2) Deuxième phrase assez longue. Troisième.",
    ]

    words = "mot " * 30
    parts = split_message(words, 50)
    assert all(len(part) <= 50 for part in parts)
    assert " ".join(_unnumbered(part) for part in parts).split() == words.split()


def test_split_keeps_a_link_longer_than_a_part_whole() -> None:
    url = "https://portail.example.org/depot/" + "x" * 80
    parts = split_message(f"Votre lien : {url} à ouvrir sur votre téléphone.", 50)
    assert f"(2/3) {url}" in parts
    assert all(len(part) <= 50 for part in parts if url not in part)


def test_split_cuts_a_word_longer_than_a_part_as_a_last_resort() -> None:
    parts = split_message("z" * 120, 50)
    assert all(len(part) <= 50 for part in parts)
    assert "".join(_unnumbered(part) for part in parts) == "z" * 120


@pytest.mark.parametrize(
    ("text", "parts"), [("Bonjour", ["Bonjour"]), ("  \n ", []), ("x" * 600, ["x" * 600])]
)
def test_short_replies_are_not_split(text: str, parts: list[str]) -> None:
    assert split_message(text) == parts


# --------------------------------------------------------------------------- opt-out


@pytest.mark.parametrize("stop", ["STOP", "stop", " Arrêt ", "ARRET", "StopAll", "unsubscribe"])
async def test_stop_is_honoured_until_start(sms: SmsHarness, stop: str) -> None:
    await sms.say(stop)

    assert sms.bot.received == []
    assert sms.twilio.bodies == [WORDING.opted_out]

    await sms.say("menu")
    await sms.channel.get_output_channel().send_text_message(TENANT, "Message du service client")
    assert sms.bot.received == []
    assert sms.twilio.bodies == [WORDING.opted_out]

    await sms.say("Démarrer")
    assert sms.bot.received == []
    assert sms.twilio.bodies == [WORDING.opted_out, WORDING.opted_in]

    await sms.say("bonjour")
    assert sms.bot.texts == ["bonjour"]
    assert sms.twilio.bodies[-1] == "Bien reçu : bonjour"


async def test_opt_out_survives_a_restart(sms: SmsHarness) -> None:
    await sms.say("STOP")
    assert await OptOutStore(sms.channel.opt_outs.url).contains(TENANT)
    assert not await OptOutStore(sms.channel.opt_outs.url).contains("+33698765432")


async def test_stop_within_a_sentence_is_ordinary_text(sms: SmsHarness) -> None:
    await sms.say("stop le prélèvement")
    assert sms.bot.texts == ["stop le prélèvement"]
    assert not await sms.channel.opt_outs.contains(TENANT)


async def test_start_from_a_number_that_did_not_opt_out_goes_to_rasa(sms: SmsHarness) -> None:
    await sms.say("START")
    assert sms.bot.texts == ["START"]


async def test_number_unsubscribed_at_twilio_is_remembered(sms: SmsHarness) -> None:
    sms.twilio.fail_next(1, status=400, code=21610)
    await sms.say("bonjour")

    assert sms.twilio.attempts == 1
    assert await sms.channel.opt_outs.contains(TENANT)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("STOP", "stop"), (" Arrêt. ", "arret"), ("DÉMARRER!", "demarrer"), ("stop svp", "stop svp")],
)
def test_keyword(text: str, expected: str) -> None:
    assert keyword(text) == expected


# --------------------------------------------------------------------------- MMS


async def test_mms_gets_the_upload_link_notice(sms: SmsHarness) -> None:
    media = {"NumMedia": "1", "MediaUrl0": "https://api.twilio.com/media/ME1"}
    await sms.say("", **media)

    assert sms.bot.received == []
    assert sms.twilio.bodies == [WORDING.media_not_supported]

    await sms.say("voici mon attestation", **media)
    assert sms.bot.texts == ["voici mon attestation"]
    assert sms.twilio.bodies[-2:] == [
        WORDING.media_not_supported,
        "Bien reçu : voici mon attestation",
    ]


# --------------------------------------------------------------------------- reliability


async def test_send_failure_is_retried(sms: SmsHarness) -> None:
    sms.twilio.fail_next(1, status=503)
    sms.twilio.fail_next(1, status=429, code=20429)
    await sms.say("bonjour")

    assert sms.twilio.attempts == 3
    assert sms.twilio.bodies == ["Bien reçu : bonjour"]


async def test_slow_provider_is_retried_after_the_timeout(sms: SmsHarness) -> None:
    sms.channel.output.retry = RetryPolicy(attempts=3, first_delay=0.01, timeout=0.3)
    sms.twilio.delay_next(1, seconds=2.0)
    await sms.say("bonjour")

    assert sms.twilio.attempts == 2
    assert sms.twilio.bodies == ["Bien reçu : bonjour"]


async def test_unreachable_provider_is_retried_then_given_up(
    sms: SmsHarness, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        sms.channel.output.api_base_url = f"http://127.0.0.1:{closed.getsockname()[1]}"
        await sms.say("bonjour")

    assert "attempt 2 failed (ClientConnectorError)" in caplog.text
    assert "not sent after 3 attempts: ClientConnectorError" in caplog.text
    assert sms.bot.texts == ["bonjour"]  # the tenant's message itself was handled


async def test_refused_message_is_not_retried(sms: SmsHarness) -> None:
    sms.twilio.fail_next(1, status=400, code=21211)  # invalid "To" number
    await sms.say("bonjour")

    assert sms.twilio.attempts == 1
    assert sms.twilio.sent == []


async def test_sending_gives_up_after_the_last_attempt(
    sms: SmsHarness, caplog: pytest.LogCaptureFixture
) -> None:
    sms.twilio.fail_next(5, status=500, code=20500)
    await sms.say("bonjour")

    assert sms.twilio.attempts == 3
    assert "not sent after 3 attempts: Twilio 500 code 20500" in caplog.text

    # The next message goes through.
    await sms.say("encore")
    assert sms.twilio.bodies == ["Bien reçu : encore"]


async def test_logs_carry_the_message_sid_never_the_body_or_number(
    sms: SmsHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sid = f"SM{uuid.uuid4().hex}"
    sms.twilio.fail_next(1, status=503)

    await sms.say("Mon loyer secret-corps-du-message", sid=sid)
    await sms.say("menu")
    await sms.say("STOP")

    assert sms.twilio.attempts == 4
    assert loggable_sid(sid) in caplog.text
    assert mask_phone(TENANT) in caplog.text
    for private in ("secret-corps-du-message", "Payer mon loyer", WORDING.opted_out, TENANT):
        assert private not in caplog.text


# --------------------------------------------------------------------------- credentials


CREDENTIALS_YML = """
bot.channels.sms.SmsInput:
  account_sid: ${TWILIO_ACCOUNT_SID}
  auth_token: ${TWILIO_AUTH_TOKEN}
  twilio_number: ${TWILIO_SMS_NUMBER}
  webhook_url: ${TWILIO_SMS_WEBHOOK_URL}
"""


def test_rasa_builds_the_channel_from_credentials_yml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_SMS_NUMBER": TWILIO_NUMBER,
        "TWILIO_SMS_WEBHOOK_URL": WEBHOOK_URL,
        "ASSISTANT_VAR_DIR": str(tmp_path / "var"),
    }.items():
        monkeypatch.setenv(name, value)
    credentials = tmp_path / "credentials.yml"
    credentials.write_text(CREDENTIALS_YML)
    # Imported here: the Rasa server's modules take seconds to import.
    from rasa.core.run import create_http_input_channels

    (channel,) = create_http_input_channels(None, str(credentials))

    assert isinstance(channel, SmsInput)
    assert channel.url_prefix() == "sms"  # served at /webhooks/sms/webhook
    assert channel.webhook_url == WEBHOOK_URL
    assert channel.opt_outs.url == f"sqlite:///{tmp_path / 'var' / 'sms_opt_out.sqlite3'}"


def test_from_credentials(tmp_path: Path) -> None:
    credentials = {
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "twilio_number": TWILIO_NUMBER,
        "webhook_url": WEBHOOK_URL,
        "opt_out_db": str(tmp_path / "opt_out.sqlite3"),
    }
    channel = SmsInput.from_credentials(credentials)
    assert channel.name() == channel.url_prefix() == "sms"
    assert channel.get_output_channel().name() == "sms"
    assert channel.opt_outs.url == f"sqlite:///{tmp_path / 'opt_out.sqlite3'}"

    with pytest.raises(RasaException, match="webhook_url"):
        SmsInput.from_credentials({**credentials, "webhook_url": ""})
    with pytest.raises(RasaException):
        SmsInput.from_credentials(None)


# --------------------------------------------------------------------------- size limit


async def test_a_huge_sms_is_answered_by_the_channel_and_never_reaches_rasa(
    sms: SmsHarness,
) -> None:
    await sms.say("loyer " * 20_000)

    assert sms.bot.received == []
    assert sms.twilio.bodies == [too_long_reply(MESSAGE_MAX_CHARS)]


# --------------------------------------------------------------------------- several servers


@pytest.fixture
async def two_servers(
    tmp_path: Path, shared_state: Callable[[], ChannelState]
) -> AsyncIterator[tuple[SmsHarness, SmsHarness]]:
    """Two Rasa servers' SMS channels, each its own process state, sharing one Redis."""
    async with (
        running_fake_twilio(ACCOUNT_SID, AUTH_TOKEN) as twilio,
        serving(sms_channel(tmp_path, twilio, shared_state()), twilio) as first,
        serving(sms_channel(tmp_path, twilio, shared_state()), twilio) as second,
    ):
        yield first, second


async def test_one_delivery_sent_to_two_servers_is_handled_once(
    two_servers: tuple[SmsHarness, SmsHarness],
) -> None:
    first, second = two_servers
    sid = f"SM{uuid.uuid4().hex}"
    answers = await asyncio.gather(first.post("bonjour", sid=sid), second.post("bonjour", sid=sid))
    await first.channel.wait_idle(10)
    await second.channel.wait_idle(10)

    assert [answer.status_code for answer in answers] == [200, 200]
    assert first.bot.texts + second.bot.texts == ["bonjour"]
    assert first.twilio.bodies == ["Bien reçu : bonjour"]

    await second.say("bonjour", sid=sid)  # Twilio delivering it again, later
    assert first.bot.texts + second.bot.texts == ["bonjour"]


async def test_choices_offered_by_one_server_are_read_by_the_other(
    two_servers: tuple[SmsHarness, SmsHarness],
) -> None:
    first, second = two_servers
    await first.say("menu")
    await second.say("2")
    assert second.bot.texts == ["/check_balance"]

    # Taken once, whichever server reads them.
    await first.say("2")
    assert first.bot.texts[-1] == "2"


async def test_without_redis_messages_are_still_handled(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    unreachable = ChannelState(redis_url="redis://127.0.0.1:1/0", key_prefix="x:")
    async with (
        running_fake_twilio(ACCOUNT_SID, AUTH_TOKEN) as twilio,
        serving(sms_channel(tmp_path, twilio, unreachable), twilio) as sms,
    ):
        await sms.say("menu")
        await sms.say("2")

    # Twilio would not deliver it again: handled; the choices are lost ("2" as typed).
    assert sms.bot.texts == ["menu", "2"]
    assert "de-duplication unavailable" in caplog.text


def test_the_twilio_api_base_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = {
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "twilio_number": TWILIO_NUMBER,
        "webhook_url": WEBHOOK_URL,
        "opt_out_db": str(tmp_path / "opt_out.sqlite3"),
    }
    monkeypatch.delenv("TWILIO_API_BASE_URL", raising=False)
    assert SmsInput.from_credentials(credentials).output.api_base_url is None

    monkeypatch.setenv("TWILIO_API_BASE_URL", "http://127.0.0.1:9001")
    assert SmsInput.from_credentials(credentials).output.api_base_url == "http://127.0.0.1:9001"
    given = {**credentials, "api_base_url": "http://127.0.0.1:9002"}
    assert SmsInput.from_credentials(given).output.api_base_url == "http://127.0.0.1:9002"


async def test_a_channel_built_from_the_environment_replies_through_that_api_base(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_fake_twilio(ACCOUNT_SID, AUTH_TOKEN) as twilio:
        monkeypatch.setenv("TWILIO_API_BASE_URL", twilio.base_url)
        channel = SmsInput.from_credentials(
            {
                "account_sid": ACCOUNT_SID,
                "auth_token": AUTH_TOKEN,
                "twilio_number": TWILIO_NUMBER,
                "webhook_url": WEBHOOK_URL,
                "opt_out_db": str(tmp_path / "opt_out.sqlite3"),
            }
        )
        async with serving(channel, twilio) as sms:
            await sms.say("bonjour")
    assert twilio.sent == [SentSms(to=TENANT, body="Bien reçu : bonjour", sender=TWILIO_NUMBER)]


@pytest.mark.postgres
async def test_opt_outs_on_postgresql_hold_for_every_server() -> None:
    # Several machines answering SMS share the numbers that texted STOP (issue 12).
    from bot.runner.databases import DEFAULT_SERVER_URL, PostgresServer, ensure_databases

    server = PostgresServer.from_url(DEFAULT_SERVER_URL)
    try:
        await ensure_databases(server, ["test_sms_opt_out"])
    except Exception as error:  # noqa: BLE001 - any failure to reach the server
        pytest.skip(f"PostgreSQL unreachable at {server.display}: {error}")
    url = server.rasa_url("test_sms_opt_out")
    first_server, second_server = OptOutStore(url), OptOutStore(url)

    await first_server.add(TENANT)
    await first_server.add(TENANT)  # STOP twice: still one row, the first date

    assert await second_server.contains(TENANT)
    await second_server.remove(TENANT)
    assert not await first_server.contains(TENANT)


def test_the_production_run_keeps_opt_outs_in_the_tracker_database(tmp_path: Path) -> None:
    from bot.runner.production import Topology, production_environment

    shared = production_environment(Topology(var_dir=tmp_path), {})
    settings = Settings.from_env(shared)
    assert settings.sms_opt_out_database_url == shared["RASA_TRACKER_HOST"]
    assert settings.sms_opt_out_database_url.startswith("postgresql://")
