"""Staff members of the e2e portal and their browser login, for the console's browser tests."""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from playwright.sync_api import Page, expect
from sqlalchemy.ext.asyncio import AsyncSession

from bot.portal.db import create_engine, session_factory
from bot.staff.services import accounts
from tests.e2e.conftest import Assistant, run_in_own_loop
from tests.portal.support import GOOD_PASSWORD

T = TypeVar("T")


def in_e2e_database(assistant: Assistant, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work(session)`` in one transaction on the running portal's database."""

    async def run() -> Any:
        engine = create_engine(assistant.settings.resolved_database_url)
        try:
            async with session_factory(engine).begin() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return run_in_own_loop(run())


def new_agent(assistant: Assistant, display_name: str) -> str:
    """An agent account of the calling test's own; its email (password ``GOOD_PASSWORD``)."""
    email = f"agent.{secrets.token_hex(4)}@example.org"

    async def create(session: AsyncSession) -> None:
        await accounts.create_staff_account(
            session=session,
            email=email,
            display_name=display_name,
            role="agent",
            password=GOOD_PASSWORD,
            actor_id=None,
        )

    in_e2e_database(assistant, create)
    return email


def log_in(page: Page, assistant: Assistant, email: str, *, landing: str = "/staff/") -> None:
    """Open ``landing``, get the login form instead, log in and land there."""
    page.goto(f"{assistant.portal}{landing}")
    expect(page).to_have_url(re.compile(r"/staff/connexion"))
    page.get_by_label("Adresse e-mail professionnelle").fill(email)
    page.get_by_label("Mot de passe").fill(GOOD_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page).to_have_url(f"{assistant.portal}{landing}")
