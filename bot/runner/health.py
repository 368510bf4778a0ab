"""Waiting for children to answer their health URL, and noticing the ones that die instead."""

from __future__ import annotations

import time
from collections.abc import Iterable

import httpx

from bot.runner.console import Echo
from bot.runner.errors import StartupFailed, StartupTimeout
from bot.runner.process import ManagedProcess


def answers_ok(client: httpx.Client, url: str) -> bool:
    """True on a 200; refused connections and timeouts just mean "not yet"."""
    try:
        return client.get(url).status_code == 200
    except httpx.TransportError:
        return False


def wait_until_healthy(
    processes: Iterable[ManagedProcess],
    *,
    echo: Echo,
    poll_interval: float = 0.5,
    progress_every: float = 15.0,
) -> None:
    """Poll every pending health URL until all answer 200.

    Raises:
        StartupFailed: a child exited first (its exit code and log tail are in the message).
        StartupTimeout: a child was still silent after its ``startup_timeout``.
    """
    pending = list(processes)
    last_progress = time.monotonic()
    # trust_env=False: a corporate HTTP(S)_PROXY must not intercept calls to localhost.
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        while pending:
            for process in list(pending):
                _check_alive(process)
                if process.spec.health_url is None or answers_ok(client, process.spec.health_url):
                    pending.remove(process)
                    elapsed = time.monotonic() - process.started_at
                    echo(f"  {process.name} prêt ({elapsed:.0f} s)")
                    continue
                _check_deadline(process)
            if pending and time.monotonic() - last_progress >= progress_every:
                last_progress = time.monotonic()
                echo(f"  en attente de : {', '.join(p.name for p in pending)}…")
            if pending:
                time.sleep(poll_interval)


def _check_alive(process: ManagedProcess) -> None:
    returncode = process.poll()
    if returncode is not None:
        raise StartupFailed(
            name=process.name,
            returncode=returncode,
            log_path=process.spec.log_path,
            log_tail=process.log_tail(),
        )


def _check_deadline(process: ManagedProcess) -> None:
    if time.monotonic() - process.started_at > process.spec.startup_timeout:
        raise StartupTimeout(
            name=process.name,
            url=process.spec.health_url or "",
            timeout=process.spec.startup_timeout,
            log_path=process.spec.log_path,
            log_tail=process.log_tail(),
        )
