"""Helpers for the portal tests: polling, database snapshots, the SMTP mailbox, a running portal.

The portal is served in-process on a real socket (sanic-testing cannot be used with our httpx,
see DEPENDENCIES.md) and driven with ``httpx.AsyncClient``, as the action server drives it.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import httpx
from sanic import Sanic
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bot.app import create_app
from bot.mail.mailbox import ReceivedEmail, read_mailbox
from bot.portal.models import Account, Base, Household, OutboxEmail, utcnow
from bot.portal.services.tenant_login import mint_widget_token
from bot.settings import Settings

T = TypeVar("T")

#: A password every rule accepts.
GOOD_PASSWORD = "Printemps2024!"

#: The demo household without an account, as a tenant types it in the chat.
MARTIN = {"client_number": "12345678", "surname": "Martin", "email": "martin@example.org"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def eventually(
    check: Callable[[], Awaitable[T]], *, timeout: float = 5.0, what: str = "condition"
) -> T:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not met within {timeout} s")
        await asyncio.sleep(0.02)


# --------------------------------------------------------------------------- database


async def db_snapshot(sessions: sessionmaker) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every portal table, to show that a refused request changed nothing."""
    snapshot = {}
    async with sessions() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table).order_by(*table.primary_key))).all()
            snapshot[table.name] = [tuple(row) for row in rows]
    return snapshot


async def accounts_of(sessions: sessionmaker, client_number: str) -> list[Account]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(Account)
                .join(Household)
                .where(Household.client_number == client_number)
                .order_by(Account.id)
            )
        )


async def outbox(sessions: sessionmaker) -> list[OutboxEmail]:
    async with sessions() as session:
        return list(await session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


# --------------------------------------------------------------------------- email


@dataclass
class Mailbox:
    """What the local SMTP server received, read back from its Maildir."""

    maildir: Any

    def emails(self, to: str | None = None) -> list[ReceivedEmail]:
        """Newest first."""
        return read_mailbox(self.maildir, to=to)

    async def wait_for(
        self, *, to: str, subject: str = "", count: int = 1, timeout: float = 15.0
    ) -> ReceivedEmail:
        """The newest email to ``to`` whose subject contains ``subject``, once ``count`` arrived.

        15 s: the outbox worker, a real SMTP server and the Maildir, on a 2-core machine busy
        with the rest of the suite (a clean-clone run once waited more than 5 s)."""

        async def arrived() -> list[ReceivedEmail]:
            found = [e for e in self.emails(to) if subject.lower() in e.subject.lower()]
            return found if len(found) >= count else []

        found = await eventually(arrived, timeout=timeout, what=f"email '{subject}' to {to}")
        return found[0]


def words(text: str) -> str:
    """Text with its line wrapping undone, to look for a sentence in an email."""
    return " ".join(text.split())


def token_of(link: str) -> str:
    """The one-time token (``jeton``) carried by an emailed link."""
    return parse_qs(urlsplit(link).query)["jeton"][0]


def hidden_fields(page: str) -> dict[str, str]:
    """Hidden inputs of an HTML form, as a browser sends them back."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))


# --------------------------------------------------------------------------- portal


@asynccontextmanager
async def serve(app: Sanic, sock: socket.socket) -> AsyncIterator[None]:
    """Serve ``app`` on ``sock`` inside the running event loop, with all its listeners."""
    # Each test starts a new app in this process: in test mode Sanic rewrites its request
    # handling (TouchUp) from the original methods again instead of from its last rewrite.
    Sanic.test_mode = True
    app.config.MOTD = False
    server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield
    finally:
        await server.before_stop()
        for connection in list(server.connections):
            connection.close_if_idle()
        await server.close()
        await server.after_stop()
        Sanic._app_registry.pop(app.name, None)


@dataclass
class Portal:
    """A running portal and a client to it, as the action server and a tenant's browser see it."""

    app: Sanic
    settings: Settings
    sessions: sessionmaker
    client: httpx.AsyncClient

    def headers(self, conversation_id: str | None = None) -> dict[str, str]:
        """The action server's service-token header, and the conversation it speaks for."""
        headers = {"Authorization": f"Bearer {self.settings.service_token}"}
        if conversation_id is not None:
            headers["X-Conversation-Id"] = conversation_id
        return headers

    async def api(
        self,
        path: str,
        body: object,
        *,
        conversation_id: str | None = None,
        method: str = "POST",
    ) -> httpx.Response:
        """Send a JSON body (POST by default) to the service API with the service token."""
        return await self.client.request(
            method, path, json=body, headers=self.headers(conversation_id)
        )

    async def open_link(self, link: str) -> httpx.Response:
        """Follow an emailed link as a browser does."""
        return await self.client.get(link, headers={"Accept": "text/html"})

    async def submit_password(
        self, link: str, password: str, confirmation: str | None = None
    ) -> httpx.Response:
        """Fill in the password form an emailed link leads to."""
        form = {
            "jeton": token_of(link),
            "mot_de_passe": password,
            "confirmation": password if confirmation is None else confirmation,
        }
        path = urlsplit(link).path
        return await self.client.post(path, data=form, headers={"Accept": "text/html"})

    async def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row, once the outbox worker has dealt with every queued email."""

        async def settled() -> bool:
            return all(e.sent_at or e.failed_at or e.attempts for e in await outbox(self.sessions))

        await eventually(settled, what="outbox delivery")
        return await db_snapshot(self.sessions)

    async def deliver_now(self) -> None:
        """Wake the outbox worker (it also runs every ``outbox_poll_seconds``)."""
        self.app.ctx.outbox_wakeup.set()


@asynccontextmanager
async def running_portal(
    settings: Settings, sock: socket.socket, sessions: sessionmaker
) -> AsyncIterator[Portal]:
    """``create_app(settings)`` served on ``sock``, with an ``httpx.AsyncClient`` to it."""
    app = create_app(settings)
    async with (
        serve(app, sock),
        httpx.AsyncClient(base_url=settings.public_base_url, timeout=10) as client,
    ):
        yield Portal(app=app, settings=settings, sessions=sessions, client=client)


# --------------------------------------------------------------------------- verified chats, files


async def verify_conversation(portal: Portal, email: str, conversation_id: str) -> None:
    """Verify a conversation as the widget of a logged-in tenant does (signed session token)."""
    async with portal.sessions() as session:
        account_id = await session.scalar(select(Account.id).where(Account.email == email))
    token = mint_widget_token(settings=portal.settings, account_id=account_id, now=utcnow())
    response = await portal.api(
        "/api/v1/verifications/session-token", {"token": token}, conversation_id=conversation_id
    )
    assert response.status_code == 200, response.text


def email_attachments(mailbox: Mailbox, email: ReceivedEmail) -> dict[str, bytes]:
    """The attached files of a received email, by file name."""
    (path,) = [
        path
        for sub in ("new", "cur")
        for path in (mailbox.maildir / sub).glob("*")
        if path.name == email.id
    ]
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    return {part.get_filename(): part.get_content() for part in message.iter_attachments()}
