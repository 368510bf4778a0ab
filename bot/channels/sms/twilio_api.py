"""Twilio's REST API as the SMS channel uses it: account, client, retry policy, errors.

Retried: 429, 5xx, network errors and time-outs. A time-out may have reached Twilio all the
same: retries favour "at least once" over "at most once". Not retried: any other refusal,
such as ``TWILIO_UNSUBSCRIBED`` (the number opted out on Twilio's side).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from bot.channels.retries import Backoff

#: Twilio's error for a number that opted out on Twilio's side.
TWILIO_UNSUBSCRIBED = 21610


@dataclass(frozen=True, kw_only=True)
class RetryPolicy(Backoff):
    """How often and how patiently a message is handed to Twilio."""

    #: Per attempt; twilio's aiohttp client passes no timeout of its own.
    timeout: float = 10.0


DEFAULT_RETRY = RetryPolicy()


@dataclass(frozen=True)
class TwilioAccount:
    """Who sends: the Twilio account, and the number messages come from."""

    account_sid: str
    auth_token: str = field(repr=False)
    #: The sending number (E.164), or a Messaging Service SID ("MG...").
    twilio_number: str

    def sender(self) -> dict[str, str]:
        """The sender arguments of ``messages.create``."""
        # A Messaging Service SID picks the sender itself.
        if self.twilio_number.startswith("MG"):
            return {"messaging_service_sid": self.twilio_number}
        return {"from_": self.twilio_number}


def make_client(account: TwilioAccount, *, api_base_url: str | None, timeout: float) -> Client:
    """Twilio's REST client on its aiohttp client (make it in the loop that will use it)."""
    http_client = AsyncTwilioHttpClient(timeout=timeout)
    client = Client(account.account_sid, account.auth_token, http_client=http_client)
    if api_base_url:
        client.api.base_url = api_base_url.rstrip("/")
    return client


def retryable(error: Exception) -> bool:
    """Whether the same message may pass if handed to Twilio again."""
    if isinstance(error, TwilioRestException):
        return error.status == 429 or error.status >= 500
    return isinstance(error, aiohttp.ClientError | asyncio.TimeoutError | OSError)


def unsubscribed(error: Exception) -> bool:
    """Whether Twilio refused because the number opted out on Twilio's side."""
    return isinstance(error, TwilioRestException) and error.code == TWILIO_UNSUBSCRIBED


def describe(error: Exception) -> str:
    """An error as logs show it: Twilio's status and code; never a message body."""
    if isinstance(error, TwilioRestException):
        return f"Twilio {error.status} code {error.code}"
    return type(error).__name__
