"""SMS channel over Twilio: a signed webhook in, Twilio's REST API out.

::

    Twilio ── POST /webhooks/sms/webhook (form: From, To, Body, MessageSid, NumMedia...)
      │  403, nothing read further, unless X-Twilio-Signature signs webhook_url + the form
      │  200 empty <Response/> at once; the message is handled in a background task, so that
      │  a slow turn neither hits Twilio's 15 s timeout nor is cancelled when Twilio hangs up
      v
    SmsInput: MessageSid seen before ─> dropped (Twilio delivered it twice)
              STOP, ARRET...        ─> opt-out stored, confirmed, not passed to Rasa
              START, DEMARRER       ─> opt-out removed, confirmed (when opted out)
              any other, opted out  ─> dropped
              NumMedia > 0          ─> notice: documents go through the upload link
              "2" after choices     ─> the payload of button 2 ("/intent" or text)
              anything else         ─> Rasa, as typed
    SmsOutput ─> messages.create_async (twilio's aiohttp client), parts of 600 characters,
              retried with back-off on 429, 5xx, network errors and timeouts; never to an
              opted-out number.

Reliability: the webhook answers only once the message is in hand; one phone number's
messages are handled one at a time, in arrival order; at shutdown the server waits for the
messages in hand. A send that keeps failing is logged (and the tenant's message is in the
tracker for staff). A send that timed out may have reached Twilio: retries favour "at least
once" over "at most once".

Opt-outs are kept in a small SQLite file (``var/sms_opt_out.sqlite3`` by default): durable,
atomic, shared by the Rasa processes of one machine (file locking), with no server to run -
a JSON file would be rewritten whole and raced by two processes. Several machines need a
shared path or a shared database. The numbered choices offered (one hour) and the MessageSids
seen (the last 10,000) are in memory: losing them at a restart only means "2" goes to Rasa as
typed, or a very late duplicate is handled twice.

Logs name messages by MessageSid and numbers masked ("+33*******78"), never a body.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
import time
import traceback
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import yaml
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request, RequestParameters
from sanic.response import HTTPResponse
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from bot.channels.sms_text import (
    OPT_IN_KEYWORDS,
    OPT_OUT_KEYWORDS,
    SMS_PART_LIMIT,
    SmsWording,
    choice_number,
    keyword,
    loggable_sid,
    mask_phone,
    render_choices,
    split_message,
)
from bot.settings import Settings

logger = logging.getLogger(__name__)

MESSAGES_FILE = Path(__file__).with_name("messages_fr.yml")
REQUIRED_CREDENTIALS = ("account_sid", "auth_token", "twilio_number", "webhook_url")
#: Twilio's error for a number that opted out on Twilio's side.
TWILIO_UNSUBSCRIBED = 21610
EMPTY_TWIML = str(MessagingResponse())


@functools.cache
def load_wording(path: Path = MESSAGES_FILE) -> SmsWording:
    """The ``sms`` section of the channels' wording file, read once."""
    section = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("sms") or {}
    try:
        return SmsWording(**section)
    except TypeError as error:
        raise RasaException(f"{path}: the 'sms' section does not fit SmsWording: {error}") from None


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a message is handed to Twilio."""

    attempts: int = 4
    first_delay: float = 0.5
    #: Per attempt; twilio's aiohttp client passes no timeout of its own.
    timeout: float = 10.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1, 2, ...)."""
        return self.first_delay * 2 ** (attempt - 1)


def _retryable(error: Exception) -> bool:
    if isinstance(error, TwilioRestException):
        return error.status == 429 or error.status >= 500
    return isinstance(error, aiohttp.ClientError | asyncio.TimeoutError | OSError)


# --------------------------------------------------------------------------- state


class OptOutStore:
    """Phone numbers that texted STOP, in a SQLite file (see the module docstring)."""

    def __init__(self, path: Path):
        self.path = path
        self._ready = False

    async def add(self, phone: str) -> None:
        await self._run(
            "INSERT OR IGNORE INTO sms_opt_out (phone, opted_out_at) VALUES (?, ?)",
            (phone, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())),
        )

    async def remove(self, phone: str) -> None:
        await self._run("DELETE FROM sms_opt_out WHERE phone = ?", (phone,))

    async def contains(self, phone: str) -> bool:
        rows = await self._run("SELECT 1 FROM sms_opt_out WHERE phone = ?", (phone,))
        return bool(rows)

    async def _run(self, sql: str, parameters: tuple[str, ...]) -> list[tuple[Any, ...]]:
        return await asyncio.to_thread(self._execute, sql, parameters)

    def _execute(self, sql: str, parameters: tuple[str, ...]) -> list[tuple[Any, ...]]:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=10)) as db, db:
            if not self._ready:
                db.execute(
                    "CREATE TABLE IF NOT EXISTS sms_opt_out "
                    "(phone TEXT PRIMARY KEY, opted_out_at TEXT NOT NULL)"
                )
                self._ready = True
            return db.execute(sql, parameters).fetchall()


class ChoiceMemory:
    """The button payloads last offered to each phone number, for ``ttl`` seconds."""

    def __init__(
        self,
        *,
        size: int = 10_000,
        ttl: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.size, self.ttl, self.clock = size, ttl, clock
        self._offers: OrderedDict[str, tuple[float, list[str]]] = OrderedDict()

    def remember(self, phone: str, payloads: list[str]) -> None:
        self._offers.pop(phone, None)
        self._offers[phone] = (self.clock(), payloads)
        while len(self._offers) > self.size:
            self._offers.popitem(last=False)

    def take(self, phone: str) -> list[str]:
        """The payloads offered to ``phone``, forgotten: they answer one message only."""
        offered_at, payloads = self._offers.pop(phone, (0.0, []))
        return payloads if self.clock() - offered_at <= self.ttl else []


class SeenMessages:
    """The last ``size`` MessageSids accepted."""

    def __init__(self, size: int = 10_000):
        self.size = size
        self._sids: OrderedDict[str, None] = OrderedDict()

    def add(self, sid: str) -> bool:
        """Remember ``sid``; ``False`` when it was already there."""
        if sid in self._sids:
            return False
        self._sids[sid] = None
        if len(self._sids) > self.size:
            self._sids.popitem(last=False)
        return True


class SenderLocks:
    """One lock per phone number while it has messages in hand: handled in arrival order."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, phone: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(phone, (None, 0))
        lock = lock or asyncio.Lock()
        self._locks[phone] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[phone]
            if users == 1:
                del self._locks[phone]
            else:
                self._locks[phone] = (lock, users - 1)


# --------------------------------------------------------------------------- output


class SmsOutput(OutputChannel):
    """Sends the bot's messages as SMS through Twilio's REST API."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        twilio_number: str,
        opt_outs: OptOutStore,
        choices: ChoiceMemory,
        wording: SmsWording,
        api_base_url: str | None = None,
        part_limit: int = SMS_PART_LIMIT,
        retry: RetryPolicy = RetryPolicy(),
    ):
        self.account_sid, self._auth_token = account_sid, auth_token
        # A Messaging Service SID ("MG...") picks the sender itself.
        self._sender = (
            {"messaging_service_sid": twilio_number}
            if twilio_number.startswith("MG")
            else {"from_": twilio_number}
        )
        self.opt_outs, self.choices, self.wording = opt_outs, choices, wording
        self.api_base_url, self.part_limit, self.retry = api_base_url, part_limit, retry
        self._client: Client | None = None

    @classmethod
    def name(cls) -> str:
        return "sms"

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_text(recipient_id, text)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        if not buttons:
            await self.send_text(recipient_id, text)
            return
        titles = [str(button.get("title") or button.get("payload") or "") for button in buttons]
        payloads = [str(button.get("payload") or button.get("title") or "") for button in buttons]
        if await self.send_text(recipient_id, render_choices(text, titles, self.wording)):
            self.choices.remember(recipient_id, payloads)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.send_text(recipient_id, image)

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        """A link (upload page, document) goes as text: the tenant opens it on the phone."""
        url = attachment if isinstance(attachment, str) else _url_in(attachment)
        if url:
            await self.send_text(recipient_id, url)
        else:
            logger.warning(
                "SMS to %s: attachment without a link not sent", mask_phone(recipient_id)
            )

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """Only a custom payload's ``text`` can be shown by SMS; raw JSON never is."""
        text = json_message.get("text") if isinstance(json_message, dict) else None
        if isinstance(text, str) and text.strip():
            await self.send_text(recipient_id, text)
        else:
            logger.info("SMS to %s: custom payload without text skipped", mask_phone(recipient_id))

    async def send_text(self, recipient: str, text: str) -> bool:
        """Send ``text`` in parts, unless the number opted out; ``True`` once all went."""
        for part in split_message(text, self.part_limit):
            if await self.opt_outs.contains(recipient):
                logger.info("SMS to %s not sent: the number opted out", mask_phone(recipient))
                return False
            if not await self.deliver(recipient, part):
                return False
        return True

    async def deliver(self, recipient: str, body: str) -> bool:
        """Hand one message to Twilio, retrying what may pass later; ``True`` once accepted."""
        for attempt in range(1, self.retry.attempts + 1):
            try:
                # smart_encoded: Twilio swaps look-alikes (curly quotes) for GSM-7 characters,
                # so that a reply is not billed as UCS-2 for one apostrophe.
                sent = await asyncio.wait_for(
                    self.client().messages.create_async(
                        to=recipient, body=body, smart_encoded=True, **self._sender
                    ),
                    self.retry.timeout,
                )
            except Exception as error:
                if not await self._should_retry(recipient, error, attempt):
                    return False
                await asyncio.sleep(self.retry.delay(attempt))
                continue
            logger.info("SMS %s to %s queued", loggable_sid(sent.sid or ""), mask_phone(recipient))
            return True
        return False

    async def _should_retry(self, recipient: str, error: Exception, attempt: int) -> bool:
        reason = _describe(error)
        if isinstance(error, TwilioRestException) and error.code == TWILIO_UNSUBSCRIBED:
            logger.warning("SMS to %s refused: opted out at Twilio", mask_phone(recipient))
            await self.opt_outs.add(recipient)
            return False
        if not _retryable(error):
            logger.error("SMS to %s not sent: %s", mask_phone(recipient), reason)
            return False
        if attempt >= self.retry.attempts:
            logger.error(
                "SMS to %s not sent after %d attempts: %s", mask_phone(recipient), attempt, reason
            )
            return False
        logger.warning("SMS to %s: attempt %d failed (%s)", mask_phone(recipient), attempt, reason)
        return True

    def client(self) -> Client:
        """Twilio's REST client on its aiohttp client, made in the running loop on first use."""
        if self._client is None:
            http = AsyncTwilioHttpClient(timeout=self.retry.timeout)
            self._client = Client(self.account_sid, self._auth_token, http_client=http)
            if self.api_base_url:
                self._client.api.base_url = self.api_base_url.rstrip("/")
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.http_client.close()


def _url_in(attachment: Any) -> str | None:
    """The link of an attachment given as ``{"payload": {"url": ...}}`` or ``{"url": ...}``."""
    if not isinstance(attachment, dict):
        return None
    payload = attachment.get("payload")
    url = attachment.get("url") or (payload.get("url") if isinstance(payload, dict) else None)
    return url if isinstance(url, str) else None


def _describe(error: Exception) -> str:
    """An error as logs show it: Twilio's status and code; never a message body."""
    if isinstance(error, TwilioRestException):
        return f"Twilio {error.status} code {error.code}"
    return type(error).__name__


# --------------------------------------------------------------------------- input


def twilio_form(request: Request) -> RequestParameters:
    """The webhook's form with its empty fields: Twilio signs ``Body=`` of a photo too.

    (Sanic's ``request.form`` drops empty fields, which would fail the signature.)
    """
    body = request.body.decode("utf-8", errors="replace")
    return RequestParameters(parse_qs(body, keep_blank_values=True))


@dataclass(frozen=True)
class InboundSms:
    """What the channel reads of Twilio's webhook form."""

    sid: str
    sender: str
    text: str
    num_media: int

    @classmethod
    def from_form(cls, form: RequestParameters) -> InboundSms | None:
        sid, sender = form.get("MessageSid"), form.get("From")
        if not sid or not sender:
            return None
        try:
            num_media = int(form.get("NumMedia") or 0)
        except ValueError:
            num_media = 0
        # Some carriers turn "@" into "¡" (GSM-7 code 0x00 read as Latin-1).
        text = (form.get("Body") or "").replace("¡", "@").strip()
        return cls(sid=sid, sender=sender, text=text, num_media=num_media)


class SmsInput(InputChannel):
    """Twilio's SMS webhook, with its signature checked; replies through ``SmsOutput``."""

    @classmethod
    def name(cls) -> str:
        return "sms"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SmsInput:
        """Build the channel from its ``credentials.yml`` block (see ``__init__``)."""
        if not credentials:
            cls.raise_missing_credentials_exception()
        missing = [key for key in REQUIRED_CREDENTIALS if not credentials.get(key)]
        if missing:
            raise RasaException(f"The sms channel needs these credentials: {', '.join(missing)}")
        opt_out_db = credentials.get("opt_out_db") or (
            Settings.from_env().var_dir / "sms_opt_out.sqlite3"
        )
        return cls(
            account_sid=str(credentials["account_sid"]),
            auth_token=str(credentials["auth_token"]),
            twilio_number=str(credentials["twilio_number"]),
            webhook_url=str(credentials["webhook_url"]),
            opt_out_db=Path(opt_out_db),
            api_base_url=credentials.get("api_base_url") or None,
            part_limit=int(credentials.get("max_chars") or SMS_PART_LIMIT),
        )

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        twilio_number: str,
        webhook_url: str,
        opt_out_db: Path,
        api_base_url: str | None = None,
        part_limit: int = SMS_PART_LIMIT,
        retry: RetryPolicy = RetryPolicy(),
        shutdown_wait: float = 10.0,
    ):
        """
        Args:
            account_sid, auth_token: the Twilio account (the token also signs webhooks).
            twilio_number: the sending number (E.164), or a Messaging Service SID ("MG...").
            webhook_url: the public URL configured in Twilio, exactly: Twilio signs it.
            opt_out_db: the SQLite file of opted-out numbers.
            api_base_url: another Twilio API server (tests); ``None`` for Twilio's.
            part_limit: characters per SMS sent (see ``bot.channels.sms_text``).
            retry: attempts and back-off of each send.
            shutdown_wait: seconds the server waits at shutdown for messages in hand.
        """
        self.webhook_url = webhook_url
        self.shutdown_wait = shutdown_wait
        self.wording = load_wording()
        self.opt_outs = OptOutStore(opt_out_db)
        self._validator = RequestValidator(auth_token)
        self._seen = SeenMessages()
        self._senders = SenderLocks()
        self._tasks: set[asyncio.Task[None]] = set()
        self.output = SmsOutput(
            account_sid=account_sid,
            auth_token=auth_token,
            twilio_number=twilio_number,
            opt_outs=self.opt_outs,
            choices=ChoiceMemory(),
            wording=self.wording,
            api_base_url=api_base_url,
            part_limit=part_limit,
            retry=retry,
        )

    def get_output_channel(self) -> SmsOutput:
        return self.output

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sms = Blueprint("sms_webhook")

        @sms.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sms.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            form = twilio_form(request)
            signature = request.headers.get("X-Twilio-Signature", "")
            if not signature or not self._validator.validate(self.webhook_url, form, signature):
                logger.warning("SMS webhook refused: missing or wrong X-Twilio-Signature")
                return response.text("Forbidden", status=403)
            inbound = InboundSms.from_form(form)
            if inbound is None:
                logger.warning("SMS webhook without MessageSid or From: ignored")
                return response.text("Bad Request", status=400)
            if self._seen.add(inbound.sid):
                logger.info(
                    "SMS %s from %s accepted", loggable_sid(inbound.sid), mask_phone(inbound.sender)
                )
                self._start(self._handle(inbound, on_new_message))
            else:
                logger.info("SMS %s delivered again: ignored", loggable_sid(inbound.sid))
            return response.text(EMPTY_TWIML, content_type="text/xml")

        @sms.listener("before_server_stop")
        async def finish_messages_in_hand(*_: Any) -> None:
            await self.wait_idle(self.shutdown_wait)

        @sms.listener("after_server_stop")
        async def close_client(*_: Any) -> None:
            await self.output.close()

        return sms

    async def wait_idle(self, timeout: float | None = None) -> None:
        """Wait until every accepted message has been handled (at most ``timeout`` seconds)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    def _start(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(
        self, inbound: InboundSms, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        try:
            word = keyword(inbound.text)
            if word in OPT_OUT_KEYWORDS:
                # Not behind the number's lock: a reply still being sent stops at its next part.
                await self._opt_out(inbound)
                return
            async with self._senders.hold(inbound.sender):
                await self._converse(inbound, word, on_new_message)
        except Exception as error:
            logger.error(
                "SMS %s from %s not handled: %s\n%s",
                loggable_sid(inbound.sid),
                mask_phone(inbound.sender),
                type(error).__name__,
                # Frames only: an exception's message may quote the tenant.
                "".join(traceback.format_tb(error.__traceback__)),
            )

    async def _converse(
        self,
        inbound: InboundSms,
        word: str,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> None:
        offered = self.output.choices.take(inbound.sender)
        if await self.opt_outs.contains(inbound.sender):
            if word in OPT_IN_KEYWORDS:
                await self._opt_in(inbound)
            else:
                logger.info("SMS %s ignored: the number opted out", loggable_sid(inbound.sid))
            return
        if inbound.num_media:
            await self.output.send_text(inbound.sender, self.wording.media_not_supported)
        if not inbound.text:
            return
        number = choice_number(inbound.text)
        text = offered[number - 1] if number and number <= len(offered) else inbound.text
        await on_new_message(
            UserMessage(
                text,
                self.output,
                inbound.sender,
                input_channel=self.name(),
                message_id=inbound.sid,
                metadata={"sms": {"message_sid": inbound.sid, "num_media": inbound.num_media}},
            )
        )

    async def _opt_out(self, inbound: InboundSms) -> None:
        await self.opt_outs.add(inbound.sender)
        logger.info("SMS %s: %s opted out", loggable_sid(inbound.sid), mask_phone(inbound.sender))
        # The one message allowed after STOP: its confirmation.
        await self.output.deliver(inbound.sender, self.wording.opted_out)

    async def _opt_in(self, inbound: InboundSms) -> None:
        await self.opt_outs.remove(inbound.sender)
        logger.info("SMS %s: %s opted in", loggable_sid(inbound.sid), mask_phone(inbound.sender))
        await self.output.send_text(inbound.sender, self.wording.opted_in)
