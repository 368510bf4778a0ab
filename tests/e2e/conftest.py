"""The real system for end-to-end tests: Rasa server, action server, portal and SMTP sink,
started once per session on free ports with a temporary var directory."""

from __future__ import annotations

import asyncio
import re
import secrets
import socket
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright

from bot.portal.db import create_engine, session_factory
from bot.portal.models import AccountStatus
from bot.portal.services.demo import _account, _household, _lease
from bot.runner.stack import Stack
from bot.runner.training import has_model
from bot.settings import PROJECT_ROOT, Settings

T = TypeVar("T")


def run_in_own_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run set-up code that is async (the portal's database) from a sync test.

    Playwright's sync API keeps its event loop running in the main thread while a browser is
    open, so `asyncio.run` there would fail: the coroutine gets a thread of its own.
    """
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Assistant:
    """A tenant's view of the running system: chat over REST, read the dev mailbox."""

    settings: Settings
    http: httpx.Client
    stack: Stack | None = None

    @property
    def rasa(self) -> str:
        return f"http://127.0.0.1:{self.settings.rasa_port}"

    @property
    def portal(self) -> str:
        return self.settings.portal_url

    def say(self, sender: str, message: str, metadata: dict | None = None) -> list[dict]:
        """Send a message over the REST channel; on a new conversation Rasa passes
        ``metadata`` to ``action_session_start`` as ``session_started_metadata``."""
        body: dict = {"sender": sender, "message": message}
        if metadata is not None:
            body["metadata"] = metadata
        response = self.http.post(f"{self.rasa}/webhooks/rest/webhook", json=body)
        response.raise_for_status()
        return response.json()

    def say_text(self, sender: str, message: str, metadata: dict | None = None) -> str:
        return "\n".join(reply.get("text", "") for reply in self.say(sender, message, metadata))

    def mailbox(self, to: str) -> list[dict]:
        response = self.http.get(f"{self.portal}/dev/mailbox", params={"to": to})
        response.raise_for_status()
        return response.json()

    def emails(self, to: str, subject_part: str) -> list[dict]:
        """``to``'s emails whose subject holds ``subject_part``, newest first."""
        return [m for m in self.mailbox(to) if subject_part.lower() in m["subject"].lower()]

    def wait_for_email(
        self, to: str, subject_part: str, *, seen: int = 0, timeout: float = 30.0
    ) -> dict:
        """The newest such email once more than ``seen`` have arrived: a test that sends an
        address a second email of a kind passes how many it had, not to read the older one."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(found := self.emails(to, subject_part)) > seen:
                return found[0]
            time.sleep(0.2)
        raise AssertionError(f"no new email '{subject_part}' for {to} within {timeout} s")


@pytest.fixture(scope="session")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    if not has_model(PROJECT_ROOT):
        pytest.fail("No trained model in models/: run the README's test command, which trains it")
    settings = Settings().with_overrides(
        var_dir=tmp_path_factory.mktemp("e2e-var"),
        portal_port=free_port(),
        rasa_port=free_port(),
        actions_port=free_port(),
        smtp_port=free_port(),
        # The whole e2e suite verifies the same demo tenants again and again in one quarter of
        # an hour; the per-address email limits are proven in tests/portal/test_mail_limits.py.
        mail_limit_per_quarter_hour=1000,
        mail_limit_per_day=1000,
    )
    settings = settings.with_overrides(public_base_url=settings.portal_url)
    with (
        Stack(settings, train=False, echo=lambda *_: None) as stack,
        httpx.Client(timeout=60) as http,
    ):
        yield Assistant(settings=settings, http=http, stack=stack)


def form_fields(page: str) -> dict[str, str]:
    """Hidden inputs of an HTML form, as a browser would send them back."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))


#: Debian's chromium (a browser downloaded by Playwright does not work here), with the flags that
#: keep it from reaching for Google's services on a closed network.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One headless chromium for the browser tests of this package.

    Not session-wide: while Playwright's sync API is open, its event loop stays set as the
    running loop of the main thread, and every async test after it (pytest-asyncio) would fail
    with "Runner.run() cannot be called from a running event loop". Closing it with the package
    gives the later packages a clean thread.
    """
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` "
            "(Playwright's own browser download does not work here)"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def tenant_account(assistant: Assistant) -> str:
    """A household of its own with an active account, so its identity can change freely."""
    number = f"{secrets.randbelow(10**8):08d}"
    email = f"locataire.{number}@example.org"

    async def create() -> None:
        engine = create_engine(assistant.settings.resolved_database_url)
        try:
            async with session_factory(engine).begin() as session:
                household = _household(number, "Lefebvre", "5 rue du Test, 67000 Strasbourg")
                household.leases = [_lease(f"BAIL-{number}-1", "Appartement", "500.00")]
                household.accounts = [_account(email, AccountStatus.ACTIVE)]
                session.add(household)
        finally:
            await engine.dispose()

    run_in_own_loop(create())
    return email
