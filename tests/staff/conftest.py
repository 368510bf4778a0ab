"""Staff console fixtures: an administrator and an agent, browsers for them, and Rasa's
tracker store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import sessionmaker

from bot.portal.models import StaffAccount
from bot.settings import Settings
from bot.staff.services import accounts
from bot.staff.transcripts.synthetic import create_events_table
from tests.portal.support import GOOD_PASSWORD, Portal
from tests.staff.support import ADMIN_EMAIL, AGENT_EMAIL, HTML, RasaEvents, StaffBrowser


@pytest.fixture
async def staff(sessions: sessionmaker) -> dict[str, StaffAccount]:
    """An administrator (made by the CLI path, ``actor_id=None``) and an agent she created."""
    async with sessions.begin() as session:
        admin = await accounts.create_staff_account(
            session=session,
            email=ADMIN_EMAIL,
            display_name="Alice Admin",
            role="admin",
            password=GOOD_PASSWORD,
            actor_id=None,
        )
        agent = await accounts.create_staff_account(
            session=session,
            email=AGENT_EMAIL,
            display_name="Bruno Agent",
            role="agent",
            password=GOOD_PASSWORD,
            actor_id=admin.id,
        )
    return {"admin": admin, "agent": agent}


@pytest.fixture
async def new_browser(portal: Portal) -> AsyncIterator[Callable[[], StaffBrowser]]:
    """Make browsers (own cookie jars) on the running portal."""
    clients: list[httpx.AsyncClient] = []

    def make() -> StaffBrowser:
        client = httpx.AsyncClient(
            base_url=portal.settings.public_base_url, headers=HTML, timeout=10
        )
        clients.append(client)
        return StaffBrowser(client)

    yield make
    for client in clients:
        await client.aclose()


async def _logged_in(make: Callable[[], StaffBrowser], email: str) -> StaffBrowser:
    browser = make()
    response = await browser.login(email)
    assert response.status_code == 303, response.text
    return browser


@pytest.fixture
async def admin(staff: dict, new_browser: Callable[[], StaffBrowser]) -> StaffBrowser:
    return await _logged_in(new_browser, ADMIN_EMAIL)


@pytest.fixture
async def agent(staff: dict, new_browser: Callable[[], StaffBrowser]) -> StaffBrowser:
    return await _logged_in(new_browser, AGENT_EMAIL)


@pytest.fixture
async def rasa(portal_settings: Settings) -> AsyncIterator[RasaEvents]:
    """Rasa's tracker store (an empty ``events`` table), written as Rasa would."""
    engine = create_async_engine(portal_settings.resolved_tracker_database_url)
    await create_events_table(engine)
    yield RasaEvents(engine)
    await engine.dispose()
