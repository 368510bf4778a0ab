"""Readiness answers shared by the three processes: ``/ready`` says whether a process can serve.

Liveness (``/health``, Rasa's ``/``) only says the process runs; a load balancer or the
supervisor must also know whether a request would be served, e.g. whether the database
answers. A refusal names one reason word (``database``, ``portal``, ``model``…) and nothing
else: no URL, host name or error text, which could reveal the deployment to an anonymous
caller.
"""

from __future__ import annotations

import asyncio
import logging

import httpx
from sanic.response import HTTPResponse, json
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)

#: Seconds a readiness check waits for a dependency before calling it unavailable.
CHECK_TIMEOUT = 2.0


def ready() -> HTTPResponse:
    """200: the process can serve."""
    return json({"status": "ready"})


def not_ready(reason: str) -> HTTPResponse:
    """503 with one reason word: what is missing, never why (that goes to the log)."""
    return json({"status": "unavailable", "reason": reason}, status=503)


async def async_database_answers(engine: AsyncEngine, timeout: float = CHECK_TIMEOUT) -> bool:
    """True when the database behind ``engine`` answers ``SELECT 1`` within ``timeout``."""

    async def select_one() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(select_one(), timeout)
    except Exception as error:  # noqa: BLE001 - any failure means "not ready"
        log.warning("readiness: database unavailable (%s)", type(error).__name__)
        return False
    return True


def sync_database_answers(engine: Engine) -> bool:
    """True when the database behind a synchronous ``engine`` (Rasa's tracker store) answers
    ``SELECT 1``; run it in a thread, it blocks."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any failure means "not ready"
        log.warning("readiness: tracker database unavailable (%s)", type(error).__name__)
        return False
    return True


async def url_answers(url: str, timeout: float = CHECK_TIMEOUT) -> bool:
    """True when ``url`` answers 200 within ``timeout`` (another process's liveness URL)."""
    try:
        # trust_env=False: a corporate HTTP(S)_PROXY must not intercept calls to our services.
        async with httpx.AsyncClient(timeout=timeout, trust_env=False) as client:
            return (await client.get(url)).status_code == 200
    except httpx.HTTPError as error:
        log.warning("readiness: %s unavailable (%s)", url, type(error).__name__)
        return False
