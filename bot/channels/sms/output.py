"""Rasa's messages sent as SMS through Twilio's REST API (``SmsOutput``).

messages.create_async (twilio's aiohttp client), in parts of 600 characters, buttons as
numbered choices; retried with back-off on what may pass (``twilio_api``); never to an
opted-out number. A send that keeps failing is logged (the tenant's message is in the
tracker for staff).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from rasa.core.channels.channel import OutputChannel
from twilio.rest import Client
from twilio.rest.api.v2010.account.message import MessageInstance

from bot.channels.buttons import button_payload, button_title
from bot.channels.identity import local_id
from bot.channels.retries import RetriesExhausted, send_with_retries
from bot.channels.sms.log_safe import loggable_sid, mask_phone
from bot.channels.sms.memory import ChoiceMemory
from bot.channels.sms.opt_outs import OptOutStore
from bot.channels.sms.text import SMS_PART_LIMIT, render_choices, split_message
from bot.channels.sms.twilio_api import (
    DEFAULT_RETRY,
    RetryPolicy,
    TwilioAccount,
    describe,
    make_client,
    retryable,
    unsubscribed,
)
from bot.channels.sms.wording import SmsWording

logger = logging.getLogger(__name__)


class SmsOutput(OutputChannel):
    """Sends the bot's messages as SMS through Twilio's REST API."""

    def __init__(
        self,
        *,
        account: TwilioAccount,
        opt_outs: OptOutStore,
        choices: ChoiceMemory,
        wording: SmsWording,
        api_base_url: str | None = None,
        part_limit: int = SMS_PART_LIMIT,
        retry: RetryPolicy = DEFAULT_RETRY,
    ):
        self.account = account
        self.opt_outs, self.choices, self.wording = opt_outs, choices, wording
        self.api_base_url, self.part_limit, self.retry = api_base_url, part_limit, retry
        self._client: Client | None = None

    @classmethod
    def name(cls) -> str:
        return "sms"

    # ------------------------------------------------------------------ Rasa's interface

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Rasa names the tenant by the conversation id (``sms:<number>``)."""
        await super().send_response(local_id(self.name(), recipient_id), message)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_text(recipient_id, text)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        if not buttons:
            await self.send_text(recipient_id, text)
            return
        titles = [button_title(button) for button in buttons]
        payloads = [button_payload(button) for button in buttons]
        if await self.send_text(recipient_id, render_choices(text, titles, self.wording)):
            await self.choices.remember(recipient_id, payloads)

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

    # ------------------------------------------------------------------ sending

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
        retry = self.retry
        try:
            sent = await send_with_retries(
                lambda: self._create(recipient, body, retry.timeout),
                attempts=retry.attempts,
                wait_after=functools.partial(self._wait_after, recipient, retry),
                retry_on=Exception,
            )
        except RetriesExhausted as exhausted:
            logger.error(
                "SMS to %s not sent after %d attempts: %s",
                mask_phone(recipient),
                exhausted.attempts,
                describe(exhausted.last_error),
            )
            return False
        except Exception as error:
            await self._refused(recipient, error)
            return False
        logger.info("SMS %s to %s queued", loggable_sid(sent.sid or ""), mask_phone(recipient))
        return True

    async def _create(self, recipient: str, body: str, timeout: float) -> MessageInstance:
        # smart_encoded: Twilio swaps look-alikes (curly quotes) for GSM-7 characters,
        # so that a reply is not billed as UCS-2 for one apostrophe.
        return await asyncio.wait_for(
            self.client().messages.create_async(
                to=recipient, body=body, smart_encoded=True, **self.account.sender()
            ),
            timeout,
        )

    def _wait_after(
        self, recipient: str, retry: RetryPolicy, error: Exception, attempt: int
    ) -> float | None:
        """Seconds before the next attempt; None when Twilio refused for good."""
        if unsubscribed(error) or not retryable(error):
            return None
        if attempt < retry.attempts:  # the last failure is logged once all have failed
            logger.warning(
                "SMS to %s: attempt %d failed (%s)", mask_phone(recipient), attempt, describe(error)
            )
        return retry.delay(attempt)

    async def _refused(self, recipient: str, error: Exception) -> None:
        if unsubscribed(error):
            logger.warning("SMS to %s refused: opted out at Twilio", mask_phone(recipient))
            await self.opt_outs.add(recipient)
        else:
            logger.error("SMS to %s not sent: %s", mask_phone(recipient), describe(error))

    def client(self) -> Client:
        """Twilio's REST client, made in the running loop on first use."""
        if self._client is None:
            self._client = make_client(
                self.account, api_base_url=self.api_base_url, timeout=self.retry.timeout
            )
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
