"""One tenant's SMS, once accepted: keywords, opt-outs, numbered choices, then Rasa::

    STOP, ARRET...        ─> opt-out stored, confirmed, not passed to Rasa
    START, DEMARRER       ─> opt-out removed, confirmed (when opted out)
    any other, opted out  ─> dropped
    NumMedia > 0          ─> notice: documents go through the upload link
    "2" after choices     ─> the payload of button 2 ("/intent" or text)
    over MESSAGE_MAX_CHARS ─> the channels' reply, not read
    anything else         ─> Rasa, as typed

One phone number's messages are handled one at a time, in arrival order.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage

from bot.channels.identity import sender_id
from bot.channels.limits import too_long, too_long_reply
from bot.channels.sms.inbound import InboundSms
from bot.channels.sms.log_safe import loggable_sid, mask_phone
from bot.channels.sms.memory import SenderLocks
from bot.channels.sms.output import SmsOutput
from bot.channels.sms.text import OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS, choice_number, keyword

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class SmsHandler:
    """Hands tenants' SMS to Rasa (``on_new_message``), replies through ``output``."""

    def __init__(self, output: SmsOutput, on_new_message: OnNewMessage, *, max_chars: int) -> None:
        self.output = output
        self.max_chars = max_chars
        self.opt_outs = output.opt_outs
        self.wording = output.wording
        self.on_new_message = on_new_message
        self._senders = SenderLocks()

    async def handle(self, inbound: InboundSms) -> None:
        """Handle one message; a failure is logged (nobody awaits this but the shutdown)."""
        try:
            word = keyword(inbound.text)
            if word in OPT_OUT_KEYWORDS:
                # Not behind the number's lock: a reply still being sent stops at its next part.
                await self._opt_out(inbound)
                return
            async with self._senders.hold(inbound.sender):
                await self._converse(inbound, word)
        except Exception as error:
            logger.error(
                "SMS %s from %s not handled: %s\n%s",
                loggable_sid(inbound.sid),
                mask_phone(inbound.sender),
                type(error).__name__,
                # Frames only: an exception's message may quote the tenant.
                "".join(traceback.format_tb(error.__traceback__)),
            )

    async def _converse(self, inbound: InboundSms, word: str) -> None:
        offered = await self.output.choices.take(inbound.sender)
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
        if too_long(inbound.text, self.max_chars):
            logger.info("SMS %s over the limit, not read", loggable_sid(inbound.sid))
            await self.output.send_text(inbound.sender, too_long_reply(self.max_chars))
            return
        number = choice_number(inbound.text)
        text = offered[number - 1] if number and number <= len(offered) else inbound.text
        await self.on_new_message(
            UserMessage(
                text,
                self.output,
                sender_id(self.output.name(), inbound.sender),
                input_channel=self.output.name(),
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
