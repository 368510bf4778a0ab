"""The running system as a tenant reaches it: the REST channel, the dev mailbox, the pages behind
links, the upload page and the payment sandbox; plus fresh demo households written straight into
the portal's database (only when the bench knows it: its own stack, or ``--database-url``).

Every wait is bounded; a timeout is a failure of the scenario, never a hang of the bench.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

HTML = {"Accept": "text/html"}
CODE_SUBJECT = "code de vérification"
UPLOAD_LINK = re.compile(r"https?://\S+/depot/[^\s)]+")
PAYMENT_LINK = re.compile(r"https?://\S+/paiement/[^\s)]+")
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


class LiveError(AssertionError):
    """Something a tenant would see go wrong outside the chat (no e-mail, a page that fails)."""


def form_fields(page: str) -> dict[str, str]:
    """Hidden inputs of an HTML form, as a browser would send them back."""
    return dict(HIDDEN.findall(page))


def pdf_bytes(text: str) -> bytes:
    """A small real PDF (the upload page checks the content, not the name)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text=text)
    return bytes(pdf.output())


@dataclass
class Live:
    """One HTTP client for every scenario, and a lock per address for verification codes."""

    rasa_url: str
    portal_url: str
    http: httpx.AsyncClient
    database_url: str | None = None
    mail_timeout: float = 30.0
    code_locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    async def say(self, sender: str, message: str) -> list[dict[str, Any]]:
        response = await self.http.post(
            f"{self.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": message}
        )
        response.raise_for_status()
        return response.json()

    async def mailbox(self, to: str) -> list[dict[str, Any]]:
        response = await self.http.get(f"{self.portal_url}/dev/mailbox", params={"to": to})
        response.raise_for_status()
        return response.json()

    async def wait_for_mail(
        self, to: str, *, known: int, subject: str = "", timeout: float | None = None
    ) -> dict[str, Any]:
        """The newest e-mail to ``to`` beyond the ``known`` older ones with ``subject`` in its
        subject (the mailbox lists the newest first)."""
        deadline = time.monotonic() + (timeout or self.mail_timeout)
        while True:
            emails = await self.mailbox(to)
            fresh = emails[: max(len(emails) - known, 0)]
            for email in fresh:
                if subject.casefold() in email["subject"].casefold():
                    return email
            if time.monotonic() > deadline:
                subjects = [email["subject"] for email in fresh]
                raise LiveError(f"no e-mail {subject!r} to {to} (new ones: {subjects})")
            await asyncio.sleep(0.3)

    async def code_emails(self, to: str) -> list[dict[str, Any]]:
        return [m for m in await self.mailbox(to) if CODE_SUBJECT in m["subject"].casefold()]

    async def verify(self, sender: str, email: str) -> tuple[list[dict], list[dict]]:
        """Give ``email``, then type the code e-mailed to it: both turns' replies.

        One verification per address at a time: otherwise two scenarios verifying the same demo
        tenant would each read the other's code.
        """
        async with self.code_locks.setdefault(email, asyncio.Lock()):
            seen = len(await self.code_emails(email))
            first = await self.say(sender, email)
            deadline = time.monotonic() + self.mail_timeout
            while len(messages := await self.code_emails(email)) <= seen:
                if time.monotonic() > deadline:
                    raise LiveError(f"no verification code e-mailed to {email}")
                await asyncio.sleep(0.3)
            code = re.search(r"\b(\d{6})\b", messages[0]["text"])
            if code is None:
                raise LiveError("the verification e-mail holds no 6-digit code")
            return first, await self.say(sender, code.group(1))

    async def open_page(self, link: str) -> httpx.Response:
        return await self.http.get(link, headers=HTML)

    async def upload(self, link: str, name: str) -> None:
        """Send a PDF through an upload link, as the tenant's browser does."""
        sent = await self.http.post(
            link, files={"fichier": (name, pdf_bytes(f"Document {name}"), "application/pdf")}
        )
        if sent.status_code != 200:
            raise LiveError(f"upload page answered {sent.status_code}")

    async def pay(self, link: str, decision: str) -> str:
        """Open the payment link, post its signed form to the sandbox, decide; the return page."""
        page = await self.open_page(link)
        if page.status_code != 200:
            raise LiveError(f"payment page answered {page.status_code}")
        action = re.search(r'<form id="paiement" method="post" action="([^"]+)"', page.text)
        if action is None:
            raise LiveError("the payment page has no payment form")
        sandbox = await self.http.post(action.group(1), data=form_fields(page.text), headers=HTML)
        chosen = [
            form
            for form in sandbox.text.split("<form")[1:]
            if f'name="decision" value="{decision}"' in form
        ]
        if sandbox.status_code != 200 or not chosen:
            raise LiveError(f"the sandbox offers no {decision} ({sandbox.status_code})")
        decided = await self.http.post(
            f"{action.group(1)}/decision", data=form_fields(chosen[0]), headers=HTML
        )
        if decided.status_code != 303:
            raise LiveError(f"the sandbox decision answered {decided.status_code}")
        back = await self.open_page(decided.headers["location"])
        return back.text

    async def create_household(self, spec: dict[str, Any]) -> dict[str, str]:
        """A household of the scenario's own; its placeholders (client number, surname, e-mail)."""
        if not self.database_url:
            raise LiveError("needs the portal's database (--database-url) for a fresh household")
        from bot.portal.db import create_engine, session_factory
        from bot.portal.models import AccountStatus
        from bot.portal.services.demo import _account, _certificate, _household, _lease

        number = f"{secrets.randbelow(9 * 10**7) + 10**7}"
        surname = str(spec.get("surname", "Lefebvre"))
        email = f"locataire.{number}@example.org"
        household = _household(number, surname, f"{number[:2]} rue du Banc, 67000 Strasbourg")
        household.leases = [
            _lease(
                f"BAIL-{number}-{index}",
                lease.get("label", "Logement"),
                str(lease.get("rent", "500.00")),
                due=str(lease.get("due", "0.00")),
                day=lease.get("debit_day"),
            )
            for index, lease in enumerate(spec.get("leases") or [{}], start=1)
        ]
        status = spec.get("account", "active")
        if status != "none":
            household.accounts = [_account(email, AccountStatus(status))]
        engine = create_engine(self.database_url)
        try:
            async with session_factory(engine).begin() as session:
                session.add(household)
                await session.flush()
                insurance = spec.get("insurance")
                if insurance:
                    until = date.today() + timedelta(days=int(insurance.get("days", 10)))
                    insurer, policy = insurance["insurer"], insurance["policy"]
                    session.add(_certificate(household.id, insurer, policy, until))
        finally:
            await engine.dispose()
        return {"client_number": number, "surname": surname, "email": email}
