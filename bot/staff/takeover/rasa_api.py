"""The staff console's client of Rasa's HTTP API: pause, resume, a staff message, the tracker.

Exception tree (what the pages branch on)::

    RasaApiError
     ├── RasaUnavailable   timeout, connection refused, 5xx: nothing is known to have changed
     └── RasaRejected      4xx: wrong token (401/403), an event Rasa refuses (400)

Rasa runs with ``--enable-api --auth-token``: every call carries the token as ``?token=``.
A staff message is a ``bot`` event appended with ``output_channel=<the handoff's channel>`` and
``execute_side_effects=true``: Rasa (``server.py``, ``append_events``) then sends it through
that channel's output, to the conversation's own room or chat. Never ``latest``: the channel a
message last came in on is not proof of who is there (the channel the handoff was asked on,
which the conversation id names, is). The REST channel has no output channel of its own: Rasa
falls back to a collecting channel whose messages nobody reads, so a REST tenant only finds
the message in the transcript.

One ``httpx.AsyncClient`` with ``base_url`` and explicit timeouts; tests hand in a transport
(``httpx.MockTransport``) or point ``base_url`` at a fake server.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

DEFAULT_TIMEOUT = httpx.Timeout(5.0, connect=2.0)
#: Marks, in the tracker, the bot events a staff member wrote (``metadata.sent_by``).
STAFF = "staff"
#: Characters a conversation id keeps as they are in the URL path: Rasa's router (Sanic)
#: matches the raw path and does not decode ``%2B`` back into the ``+`` of a phone number.
_PATH_SAFE = "/+@:!$&'()*,;="


class RasaApiError(Exception):
    """Base of every failure of a call to Rasa's HTTP API."""


class RasaUnavailable(RasaApiError):
    """Rasa did not answer usefully."""


class RasaRejected(RasaApiError):
    def __init__(self, status: int, detail: str = ""):
        super().__init__(f"Rasa answered {status} {detail}".strip())
        self.status = status


class RasaClient:
    """Async client of Rasa's HTTP API; one ``httpx.AsyncClient`` reused across calls."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ):
        self._token = token
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), transport=transport, timeout=timeout
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    @staticmethod
    def _tracker_path(conversation_id: str) -> str:
        return f"/conversations/{quote(conversation_id, safe=_PATH_SAFE)}/tracker"

    async def _request(
        self, method: str, path: str, params: dict[str, str], body: Any = None
    ) -> dict[str, Any]:
        try:
            response = await self._client.request(
                method, path, params={**params, "token": self._token}, json=body
            )
        except httpx.HTTPError as error:
            raise RasaUnavailable(type(error).__name__) from error
        if response.status_code >= 500:
            raise RasaUnavailable(f"Rasa answered {response.status_code}")
        if response.status_code >= 400:
            raise RasaRejected(response.status_code, response.text[:200])
        try:
            answer = response.json()
        except ValueError as error:
            raise RasaUnavailable("Rasa answered something that is not JSON") from error
        return answer if isinstance(answer, dict) else {}

    async def _append(
        self, conversation_id: str, events: list[dict[str, Any]], *, deliver_on: str = ""
    ) -> None:
        params = {"include_events": "NONE"}
        if deliver_on:
            params |= {"output_channel": deliver_on, "execute_side_effects": "true"}
        path = self._tracker_path(conversation_id) + "/events"
        await self._request("POST", path, params, events)

    async def pause(self, conversation_id: str) -> None:
        """The bot stops answering the conversation (its messages are still logged)."""
        await self._append(conversation_id, [{"event": "pause"}])

    async def resume(self, conversation_id: str) -> None:
        """The bot answers the conversation again, from its next message."""
        await self._append(conversation_id, [{"event": "resume"}])

    async def send_staff_message(
        self, conversation_id: str, text: str, *, staff_id: int, channel: str
    ) -> None:
        """Send ``text`` to the tenant through ``channel`` (the handoff's), kept in the
        transcript."""
        if not channel or channel == "latest":
            raise ValueError("a staff message goes through the handoff's own channel")
        event = {"event": "bot", "text": text, "metadata": {"sent_by": STAFF, "staff_id": staff_id}}
        await self._append(conversation_id, [event], deliver_on=channel)

    async def tracker(self, conversation_id: str) -> dict[str, Any]:
        """The conversation since its last restart: ``events``, ``paused``,
        ``latest_input_channel``..."""
        return await self._request("GET", self._tracker_path(conversation_id), {})
