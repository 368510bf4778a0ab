"""A fake of Twilio's Messages API on loopback, for the SMS channel tests.

The channel's Twilio client is pointed at it (``api_base_url``). It checks the account's
basic auth, records every message created, and answers the next requests with the errors a
test asks for (``fail_next``), as Twilio answers: a JSON body with ``code`` and ``message``.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import uuid
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from tests.portal.support import serve


@dataclass(frozen=True)
class SentSms:
    """One message the channel handed to Twilio."""

    to: str
    body: str
    sender: str


class FakeTwilio:
    """``POST /2010-04-01/Accounts/<sid>/Messages.json``, recorded."""

    def __init__(self, account_sid: str, auth_token: str):
        self.account_sid = account_sid
        #: Set once served: where the channel's Twilio client is pointed.
        self.base_url = ""
        credentials = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self._authorization = f"Basic {credentials}"
        self.sent: list[SentSms] = []
        #: Every request that passed authentication, failed or not.
        self.attempts = 0
        self._failures: deque[tuple[int, int]] = deque()
        self._delays: deque[float] = deque()
        self.app = Sanic(f"fake_twilio_{uuid.uuid4().hex}")
        self.app.add_route(
            self._create_message, "/2010-04-01/Accounts/<account>/Messages.json", methods=["POST"]
        )

    @property
    def bodies(self) -> list[str]:
        return [sms.body for sms in self.sent]

    def fail_next(self, count: int = 1, *, status: int = 503, code: int = 20503) -> None:
        """Answer the next ``count`` messages with this HTTP status and Twilio error code."""
        self._failures.extend([(status, code)] * count)

    def delay_next(self, count: int = 1, *, seconds: float) -> None:
        """Keep the next ``count`` requests waiting ``seconds`` before answering (a slow API)."""
        self._delays.extend([seconds] * count)

    async def _create_message(self, request: Request, account: str) -> HTTPResponse:
        if account != self.account_sid or request.headers.get("authorization") != (
            self._authorization
        ):
            return response.json({"code": 20003, "message": "Authenticate", "status": 401}, 401)
        self.attempts += 1
        if self._delays:
            # A client that gives up first closes the connection: Sanic cancels this handler.
            await asyncio.sleep(self._delays.popleft())
        if self._failures:
            status, code = self._failures.popleft()
            return response.json(
                {"code": code, "message": "fake failure", "status": status}, status=status
            )
        form = request.form
        sms = SentSms(
            to=form.get("To"),
            body=form.get("Body"),
            sender=form.get("From") or form.get("MessagingServiceSid"),
        )
        self.sent.append(sms)
        return response.json(
            {
                "sid": f"SM{uuid.uuid4().hex}",
                "account_sid": account,
                "to": sms.to,
                "from": sms.sender,
                "body": sms.body,
                "status": "queued",
            },
            status=201,
        )


@asynccontextmanager
async def running_fake_twilio(account_sid: str, auth_token: str) -> AsyncIterator[FakeTwilio]:
    """A ``FakeTwilio`` served on a free loopback port; its base URL is ``fake.base_url``."""
    fake = FakeTwilio(account_sid, auth_token)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        fake.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        async with serve(fake.app, sock):
            yield fake
