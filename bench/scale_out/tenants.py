"""Tenants as the production topology sees them: each conversation from a loopback address of
its own, with the REST channel's token, its e-mails read from the SMTP relay's Maildir.

nginx sends a client address to one Rasa server (``hash $remote_addr consistent``): every
conversation from 127.0.0.1 would land on one server, so the load would not spread as real
tenants' does. There is no ``/dev/mailbox`` in production; the relay's Maildir is read here.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.conversations.live import Live
from bench.speed.play import TimedLive
from bot.mail.mailbox import read_mailbox

#: 127.0.0.2 to 127.0.0.254: 127.0.0.1 stays the operator's, .0 and .255 are not hosts.
FIRST_HOST, LAST_HOST = 2, 254


def source_address(index: int) -> str:
    """The ``index``-th conversation's address, cycling through the usable loopback hosts."""
    return f"127.0.0.{FIRST_HOST + index % (LAST_HOST - FIRST_HOST + 1)}"


class SourceAddresses:
    """One HTTP client per source address, made on first use and kept (connections reused);
    each new sender gets the next address."""

    def __init__(self, timeout: float = 120.0) -> None:
        self.timeout = timeout
        self.senders: dict[str, str] = {}
        self.clients: dict[str, httpx.AsyncClient] = {}

    def address(self, sender: str) -> str:
        return self.senders.setdefault(sender, source_address(len(self.senders)))

    def client(self, sender: str) -> httpx.AsyncClient:
        address = self.address(sender)
        if address not in self.clients:
            # verify=False: plain HTTP on loopback, and loading the CA bundle for each of
            # 253 clients would be the bench's CPU taken from the servers' two cores.
            transport = httpx.AsyncHTTPTransport(local_address=address, verify=False)
            # trust_env=False: a proxy from the environment must not stand before loopback.
            self.clients[address] = httpx.AsyncClient(
                transport=transport, timeout=self.timeout, trust_env=False
            )
        return self.clients[address]

    async def aclose(self) -> None:
        for client in self.clients.values():
            await client.aclose()
        self.clients.clear()


@dataclass
class TenantLive(Live):
    """``Live`` through nginx: REST with its bearer token, a source address per sender."""

    token: str = ""
    maildir: Path = Path()
    addresses: SourceAddresses = field(default_factory=SourceAddresses)

    async def say(self, sender: str, message: str) -> list[dict[str, Any]]:
        response = await self.addresses.client(sender).post(
            f"{self.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": message},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        response.raise_for_status()
        return response.json()

    async def mailbox(self, to: str) -> list[dict[str, Any]]:
        """The relay's Maildir, newest first, as ``/dev/mailbox`` would list it."""
        emails = await asyncio.to_thread(read_mailbox, self.maildir, to=to)
        return [email.as_dict() for email in emails]


@dataclass
class TimedTenantLive(TimedLive, TenantLive):
    """``TenantLive`` with every message timed (``TimedLive.say`` around ``TenantLive.say``)."""
