"""Who a message is from, as its channel authenticated it.

Every channel names its senders ``<channel>:<id>`` (``telegram:42``, ``sms:+33612345678``,
``socketio:<server-issued id>``, ``rest:<test id>``): the same id on two channels is two
conversations, and a channel can only ever reach the conversations it names itself. The
action server acts for a conversation only when the channel of its latest message is the one
its id names (``actions/identity.py``), so a verification belongs to (channel, sender).

The widget's socket.io sessions are issued by the server: a session is ``<id>.<signature>``
(HMAC-SHA-256 with the portal's secret key), the id alone is not enough to join it, and a
session the server did not sign starts a new conversation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SEPARATOR = ":"
#: Bytes of randomness in a web session id.
SESSION_ID_BYTES = 16


def sender_id(channel: str, local_id: str) -> str:
    """The conversation id of ``local_id`` (a chat id, a phone number...) on ``channel``."""
    return f"{channel}{SEPARATOR}{local_id}"


def local_id(channel: str, conversation: str) -> str:
    """What ``channel`` calls the sender of ``conversation`` (its chat id, its number)."""
    return conversation.removeprefix(f"{channel}{SEPARATOR}")


class WebSessions:
    """Issues and checks the widget's socket.io sessions (signed, never chosen by a client)."""

    def __init__(self, secret_key: str) -> None:
        # A key of its own, so a session signature is never valid as anything else.
        self._key = hmac.new(secret_key.encode(), b"socketio-session", hashlib.sha256).digest()

    def _signature(self, session: str) -> str:
        digest = hmac.new(self._key, session.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def issue(self) -> str:
        """A new session: what the widget keeps and presents again when it reconnects."""
        session = secrets.token_hex(SESSION_ID_BYTES)
        return f"{session}.{self._signature(session)}"

    def session_of(self, token: object) -> str | None:
        """The session id of a token this server issued; ``None`` for anything else."""
        if not isinstance(token, str) or len(token) > 200:
            return None
        session, _, signature = token.partition(".")
        if len(session) != 2 * SESSION_ID_BYTES or not signature:
            return None
        expected = self._signature(session)
        return session if hmac.compare_digest(signature.encode(), expected.encode()) else None
