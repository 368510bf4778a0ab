"""Helpers for the staff console tests: staff accounts, browsers logged in to ``/staff``, and
Rasa's tracker store written as Rasa would (``RasaEvents``).

Each ``StaffBrowser`` has its own cookie jar (login and CSRF cookies), as two people at two
desks would; requests say they accept HTML, as a browser does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import sessionmaker

from bot.portal.models import StaffAccount, StaffAuditEntry, utcnow
from bot.staff.services.sessions import LOGIN_COOKIE
from bot.staff.transcripts.synthetic import Turn, conversation_rows, write_rows
from tests.portal.support import GOOD_PASSWORD, Portal, hidden_fields

HTML = {"Accept": "text/html"}
LOGIN, HOME = "/staff/connexion", "/staff/"
ACCOUNTS = "/staff/administration/comptes"
ADMIN_EMAIL, AGENT_EMAIL = "alice.admin@example.org", "bruno.agent@example.org"
BAD_CREDENTIALS = "Identifiant ou mot de passe incorrect."
FORM_EXPIRED = "Ce formulaire a expiré"
FORBIDDEN = "Accès refusé"


@dataclass
class StaffBrowser:
    client: httpx.AsyncClient

    async def login(self, email: str, password: str = GOOD_PASSWORD, **extra: str):
        """Fill in the login form (CSRF cookie and hidden fields included)."""
        form = hidden_fields((await self.client.get(LOGIN)).text)
        data = {**form, "email": email, "mot_de_passe": password, **extra}
        return await self.client.post(LOGIN, data=data)

    async def csrf(self, page: str = HOME) -> str:
        """The CSRF field of a page, as the forms of that page carry it."""
        return hidden_fields((await self.client.get(page)).text)["csrf"]

    async def post(self, path: str, data: dict[str, str] | None = None) -> httpx.Response:
        """Submit a form of the console with this browser's CSRF field."""
        return await self.client.post(path, data={"csrf": await self.csrf(), **(data or {})})

    @property
    def login_cookie(self) -> str | None:
        return self.client.cookies.get(LOGIN_COOKIE)


def sets_login_cookie(response: httpx.Response) -> bool:
    """Whether the response hands the browser a (non-empty) staff login cookie."""
    return any(
        header.startswith(f"{LOGIN_COOKIE}=v1.")
        for header in response.headers.get_list("set-cookie")
    )


def cookie_header(response: httpx.Response, name: str) -> str:
    (header,) = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    return header


def without_form_values(page: str) -> str:
    """A page with the typed email and the per-browser CSRF token blanked out."""
    return re.sub(r'name="(csrf|email)" value="[^"]*"', r'name="\1" value=""', page)


async def staff_account(sessions: sessionmaker, email: str) -> StaffAccount:
    async with sessions() as session:
        return await session.scalar(select(StaffAccount).where(StaffAccount.email == email))


async def audit_entries(sessions: sessionmaker, action: str | None = None) -> list[StaffAuditEntry]:
    """Oldest first."""
    query = select(StaffAuditEntry).order_by(StaffAuditEntry.id)
    if action is not None:
        query = query.where(StaffAuditEntry.action == action)
    async with sessions() as session:
        return list(await session.scalars(query))


def recent(entry: StaffAuditEntry) -> bool:
    return utcnow() - timedelta(minutes=1) < entry.at <= utcnow()


async def staff_tables(portal: Portal) -> dict[str, list[tuple]]:
    """The staff rows (accounts and audit), to show that a refused request changed nothing."""
    snapshot = {}
    async with portal.sessions() as session:
        for model in (StaffAccount, StaffAuditEntry):
            table = model.__table__
            rows = (await session.execute(select(table).order_by(table.c.id))).all()
            snapshot[table.name] = [tuple(row) for row in rows]
    return snapshot


@dataclass
class RasaEvents:
    """Rasa's tracker store, written as Rasa would (the portal only reads it)."""

    engine: AsyncEngine

    async def talk(
        self, sender: str, *turns: Turn, start: float = 0.0, channel: str = "socketio"
    ) -> None:
        await write_rows(
            self.engine, conversation_rows(sender, turns, start=start, channel=channel)
        )

    async def rows(self, rows: list[dict[str, Any]]) -> None:
        await write_rows(self.engine, rows)
