"""Schemathesis against the running portal: every operation of ``bot/portal/api/openapi.yaml``,
with generated and mutated input, never gets a server error (issue 9: "0 server errors").

The portal runs in a thread of its own (its own event loop) on a free loopback port, over a
fresh SQLite database with the demo data, because Schemathesis calls it synchronously. Each
operation gets ``MAX_EXAMPLES`` generated cases (plus Schemathesis's explicit examples and
boundary cases), every one sent with the service token; the operations on account data are
sent for a verified conversation so that their input parsing is reached, the others for the
conversation Schemathesis generates (per-conversation rate limits would stop them otherwise).
Unsubscribing closes the account, so that operation speaks for another tenant's conversation.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import threading
from collections.abc import Coroutine, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from sqlalchemy import select

import bot.portal.api
from bot.app import create_app
from bot.portal.bootstrap import prepare_database
from bot.portal.db import create_engine, session_factory
from bot.portal.models import Account, utcnow
from bot.portal.services import demo
from bot.portal.services.passwords import hash_password
from bot.portal.services.tenant_login import mint_widget_token
from bot.settings import Settings
from tests.portal.support import serve

T = TypeVar("T")
SPEC_PATH = Path(bot.portal.api.__file__).parent / "openapi.yaml"
#: Generated cases per operation: bounded, so the whole module runs in about a minute
#: (``FUZZ_EXAMPLES=200`` for a deeper run: about 4 minutes).
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
#: Verified conversations: Claire's for account data, Nguyen's for the unsubscription.
VERIFIED = {
    "claire.dupont@example.org": f"rest:fuzz-claire-{secrets.token_hex(4)}",
    "minh.nguyen@example.org": f"rest:fuzz-nguyen-{secrets.token_hex(4)}",
}
CLOSES_THE_ACCOUNT = "POST /api/v1/unsubscriptions"


async def _no_email(*_args: object, **_kwargs: object) -> None:
    """The outbox's sender: the fuzzer's emails go nowhere."""


class ThreadedPortal:
    """``create_app(settings)`` served on ``sock`` from an event loop in its own thread."""

    def __init__(self, settings: Settings, sock: socket.socket) -> None:
        self.app = create_app(settings, send_email=_no_email)
        self.sock = sock
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server: AbstractAsyncContextManager[None] | None = None

    def _run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def __enter__(self) -> ThreadedPortal:
        self.thread.start()
        self.server = serve(self.app, self.sock)
        self._run(self.server.__aenter__())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.server is not None
        self._run(self.server.__aexit__(None, None, None))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


async def _account_ids(settings: Settings) -> dict[str, int]:
    engine = create_engine(settings.resolved_database_url)
    try:
        async with session_factory(engine)() as session:
            rows = await session.execute(
                select(Account.email, Account.id).where(Account.email.in_(VERIFIED))
            )
            return dict(rows.all())
    finally:
        await engine.dispose()


def _verify(settings: Settings, client: httpx.Client) -> None:
    """The conversations of ``VERIFIED``, verified as the logged-in page's widget does it."""
    for email, account_id in asyncio.run(_account_ids(settings)).items():
        token = mint_widget_token(settings=settings, account_id=account_id, now=utcnow())
        response = client.post(
            "/api/v1/verifications/session-token",
            json={"token": token},
            headers={"X-Conversation-Id": VERIFIED[email]},
        )
        assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def running_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    settings = Settings(
        var_dir=tmp_path_factory.mktemp("fuzz"),
        portal_port=port,
        public_base_url=f"http://127.0.0.1:{port}",
    )
    # Demo passwords are random and unknown either way: one hash for every demo account.
    original, decoy = demo.hash_password, hash_password(secrets.token_urlsafe(24))
    demo.hash_password = lambda _password: decoy
    try:
        asyncio.run(prepare_database(settings))
    finally:
        demo.hash_password = original
    with ThreadedPortal(settings, sock):
        auth = {"Authorization": f"Bearer {settings.service_token}"}
        with httpx.Client(base_url=settings.public_base_url, headers=auth, timeout=10) as client:
            _verify(settings, client)
        yield settings
    sock.close()


@pytest.fixture(scope="module")
def portal_schema(running_portal: Settings) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_path(SPEC_PATH)
    schema.config.update(
        base_url=running_portal.public_base_url,
        headers={"Authorization": f"Bearer {running_portal.service_token}"},
    )
    return schema


schema = schemathesis.pytest.from_fixture("portal_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,  # failing examples are printed, not kept
)
def test_no_operation_answers_a_server_error(case: schemathesis.Case) -> None:
    if "tenant" in (case.operation.tags or []):
        closes = case.operation.label == CLOSES_THE_ACCOUNT
        tenant = "minh.nguyen@example.org" if closes else "claire.dupont@example.org"
        case.headers = {**(case.headers or {}), "X-Conversation-Id": VERIFIED[tenant]}
    case.call_and_validate(checks=[not_a_server_error])
