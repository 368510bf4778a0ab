"""Twilio's SMS webhook, signature checked, each message accepted once (``SmsInput``)::

    Twilio ── POST /webhooks/sms/webhook (form: From, To, Body, MessageSid, NumMedia...)
      │  403, nothing read further, unless X-Twilio-Signature signs webhook_url + the form
      │  MessageSid seen before, here or on another server ─> dropped (delivered twice)
      │  200 empty <Response/> at once; the message is handled in a background task, so that
      │  a slow turn neither hits Twilio's 15 s timeout nor is cancelled when Twilio hangs up
      v
    SmsHandler (``handling``)

The webhook answers only once the message is in hand; at shutdown the server waits for the
messages in hand. The MessageSids seen (one day) and the choices offered are kept where
``ChannelState`` says: this process's memory (the last 10,000; after a restart a very late
duplicate is handled twice), or Redis shared by several Rasa servers. When that Redis cannot
be reached the message is handled all the same: Twilio would not deliver it again, and a
lost message is worse than a rare double.

Credentials besides the required ones: ``api_base_url`` (else ``TWILIO_API_BASE_URL``),
``opt_out_db``, ``max_chars``, ``state_redis_url`` and ``state_key_prefix`` (else
``CHANNEL_STATE_REDIS_URL``, ``CHANNEL_STATE_KEY_PREFIX``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from bot.channels.limits import message_limit
from bot.channels.sms.handling import OnNewMessage, SmsHandler
from bot.channels.sms.inbound import InboundSms, twilio_form
from bot.channels.sms.log_safe import loggable_sid, mask_phone
from bot.channels.sms.memory import MEMORY_SIZE, ChoiceMemory, SeenMessages
from bot.channels.sms.opt_outs import OptOutStore
from bot.channels.sms.output import SmsOutput
from bot.channels.sms.text import SMS_PART_LIMIT
from bot.channels.sms.twilio_api import DEFAULT_RETRY, RetryPolicy, TwilioAccount
from bot.channels.sms.wording import load_wording
from bot.channels.state import ChannelState, StateUnavailable
from bot.channels.webhooks import webhook_blueprint
from bot.settings import MESSAGE_MAX_CHARS, Settings

logger = logging.getLogger(__name__)

REQUIRED_CREDENTIALS = ("account_sid", "auth_token", "twilio_number", "webhook_url")
EMPTY_TWIML = str(MessagingResponse())


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
        settings = Settings.from_env()
        opt_out_db = (
            credentials.get("opt_out_db")
            or settings.sms_opt_out_database_url
            or settings.var_dir / "sms_opt_out.sqlite3"
        )
        return cls(
            account_sid=str(credentials["account_sid"]),
            auth_token=str(credentials["auth_token"]),
            twilio_number=str(credentials["twilio_number"]),
            webhook_url=str(credentials["webhook_url"]),
            opt_out_db=opt_out_db,
            api_base_url=credentials.get("api_base_url") or settings.twilio_api_base_url or None,
            part_limit=int(credentials.get("max_chars") or SMS_PART_LIMIT),
            message_max_chars=message_limit(settings),
            state=ChannelState.from_settings(credentials, settings),
        )

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        twilio_number: str,
        webhook_url: str,
        opt_out_db: Path | str,
        api_base_url: str | None = None,
        part_limit: int = SMS_PART_LIMIT,
        retry: RetryPolicy = DEFAULT_RETRY,
        shutdown_wait: float = 10.0,
        message_max_chars: int = MESSAGE_MAX_CHARS,
        state: ChannelState | None = None,
    ):
        """
        Args:
            account_sid, auth_token: the Twilio account (the token also signs webhooks).
            twilio_number: the sending number (E.164), or a Messaging Service SID ("MG...").
            webhook_url: the public URL configured in Twilio, exactly: Twilio signs it.
            opt_out_db: the opted-out numbers' SQLite file, or a database URL.
            api_base_url: another Twilio API server (tests); ``None`` for Twilio's.
            part_limit: characters per SMS sent (see ``bot.channels.sms.text``).
            retry: attempts and back-off of each send.
            shutdown_wait: seconds the server waits at shutdown for messages in hand.
            message_max_chars: longer messages are answered by the channel, not read.
            state: where MessageSids and choices are kept; None: this process's memory.
        """
        self.message_max_chars = message_max_chars
        self.webhook_url = webhook_url
        self.shutdown_wait = shutdown_wait
        self.wording = load_wording()
        self.opt_outs = OptOutStore(opt_out_db)
        self._validator = RequestValidator(auth_token)
        self.state = state or ChannelState()
        self._seen = SeenMessages(self.state.store("sms:seen", MEMORY_SIZE))
        self._tasks: set[asyncio.Task[None]] = set()
        self.output = SmsOutput(
            account=TwilioAccount(account_sid, auth_token, twilio_number),
            opt_outs=self.opt_outs,
            choices=ChoiceMemory(self.state.store("sms:choices", MEMORY_SIZE)),
            wording=self.wording,
            api_base_url=api_base_url,
            part_limit=part_limit,
            retry=retry,
        )

    def get_output_channel(self) -> SmsOutput:
        return self.output

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        sms = webhook_blueprint("sms_webhook")
        handler = SmsHandler(self.output, on_new_message, max_chars=self.message_max_chars)

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
            if await self._first_time(inbound):
                logger.info(
                    "SMS %s from %s accepted", loggable_sid(inbound.sid), mask_phone(inbound.sender)
                )
                self._start(handler.handle(inbound))
            else:
                logger.info("SMS %s delivered again: ignored", loggable_sid(inbound.sid))
            return response.text(EMPTY_TWIML, content_type="text/xml")

        @sms.listener("before_server_stop")
        async def finish_messages_in_hand(*_: Any) -> None:
            await self.wait_idle(self.shutdown_wait)

        @sms.listener("after_server_stop")
        async def close_client(*_: Any) -> None:
            await self.output.close()
            await self.state.close()

        return sms

    async def wait_idle(self, timeout: float | None = None) -> None:
        """Wait until every accepted message has been handled (at most ``timeout`` seconds)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def _first_time(self, inbound: InboundSms) -> bool:
        """Whether this delivery is new; when the store cannot tell, yes (module docstring)."""
        try:
            return await self._seen.first_time(inbound.sid)
        except StateUnavailable as error:
            logger.error(
                "SMS %s: de-duplication unavailable (%s), handled anyway",
                loggable_sid(inbound.sid),
                error,
            )
            return True

    def _start(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
