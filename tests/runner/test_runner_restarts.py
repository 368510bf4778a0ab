"""The supervisor restarts a child that dies while the stack runs, up to a cap (issue 9)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from bot.runner import ProcessExited, ProcessSpec, Supervisor
from bot.runner.supervisor import backoff
from tests.runner.test_runner_supervisor import free_port, python_spec, wait_for_log

#: A small web server on PORT, announced in its log once it serves.
SERVE = """
import http.server, threading
server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), http.server.SimpleHTTPRequestHandler)
threading.Thread(target=server.serve_forever, daemon=True).start()
print("serveur démarré", flush=True)
"""


def web_spec(tmp_path: Path, name: str, code: str) -> ProcessSpec:
    """A child with a health URL: ``SERVE``, then ``code`` (which may die)."""
    port = free_port()
    return python_spec(
        tmp_path,
        name,
        code.replace("SERVE", SERVE).replace("PORT", str(port)),
        cwd=tmp_path,
        port=port,
        bind_host="127.0.0.1",
        label=f"le serveur {name}",
        health_url=f"http://127.0.0.1:{port}/",
        startup_timeout=20,
    )


@pytest.fixture
def watch_in_background() -> Iterator[Callable[[Supervisor], list[BaseException]]]:
    """Run ``watch()`` in a thread; what it raised is in the returned list. Each thread must
    have returned once the test stopped its supervisor."""
    threads: list[threading.Thread] = []

    def start(supervisor: Supervisor) -> list[BaseException]:
        errors: list[BaseException] = []

        def run() -> None:
            try:
                supervisor.watch()
            except BaseException as error:
                errors.append(error)

        thread = threading.Thread(target=run, daemon=True)
        threads.append(thread)
        thread.start()
        return errors

    yield start
    for thread in threads:
        thread.join(timeout=10)
        assert not thread.is_alive(), "watch() did not return after stop()"


def wait_until(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition never met"
        time.sleep(0.05)


def test_a_child_killed_is_restarted_and_healthy_again(
    tmp_path: Path, watch_in_background: Callable[[Supervisor], list[BaseException]]
) -> None:
    spec = web_spec(tmp_path, "web", "SERVE\nthreading.Event().wait()")
    messages: list[str] = []
    supervisor = Supervisor([spec], echo=messages.append, poll_interval=0.05, restart_delay=0.1)
    supervisor.start()
    try:
        (first,) = supervisor.processes
        errors = watch_in_background(supervisor)
        wait_for_log(spec.log_path, "serveur démarré")

        os.kill(first.pid, signal.SIGKILL)
        wait_until(lambda: sum(" prêt " in message for message in messages) == 2)

        assert httpx.get(spec.health_url or "", trust_env=False).status_code == 200
        (second,) = supervisor.processes
        assert second.poll() is None and second.pid != first.pid
        assert errors == []
    finally:
        supervisor.stop()

    restart = next(message for message in messages if "redémarrage" in message)
    assert restart.startswith("Le serveur web s'est arrêté (tué par le signal SIGKILL) ;")
    assert "serveur démarré" in restart  # the tail of the log of the run that died
    assert "serveur démarré" in spec.log_path.with_name("web.log.1").read_text()
    assert second.poll() is not None  # stop() ended the restarted child too


def test_a_child_that_keeps_dying_ends_the_watch_after_the_cap(tmp_path: Path) -> None:
    steady = python_spec(tmp_path, "portal", "import time; time.sleep(60)")
    # Healthy the first time, for a moment; at every restart it dies before it answers.
    fragile = web_spec(
        tmp_path,
        "actions",
        """
import pathlib, sys, time
if pathlib.Path("started-once").exists():
    print("connexion refusée", flush=True)
    sys.exit(4)
pathlib.Path("started-once").touch()
SERVE
time.sleep(0.5)
sys.exit(3)
""",
    )
    messages: list[str] = []
    supervisor = Supervisor(
        [steady, fragile],
        echo=messages.append,
        poll_interval=0.05,
        max_restarts=3,
        restart_delay=0.1,
    )
    with supervisor:
        began = time.monotonic()
        with pytest.raises(ProcessExited) as caught:
            supervisor.watch()
        took = time.monotonic() - began
        portal, actions = supervisor.processes
        assert portal.poll() is None  # the others run until the stack stops

    error = caught.value
    assert (error.name, error.returncode) == ("actions", 4)
    assert "connexion refusée" in str(error)
    restarts = [message for message in messages if "redémarrage…" in message]
    assert len(restarts) == 3
    assert "(code de sortie 3)" in restarts[0] and "(code de sortie 4)" in restarts[1]
    assert "3 redémarrages" in messages[-1] and "abandon" in messages[-1]
    assert took >= 0.1 + 0.2 + 0.4  # the pauses doubled


@pytest.mark.parametrize(
    ("restart", "pause"),
    [(1, 1.0), (2, 2.0), (3, 4.0), (5, 16.0), (6, 30.0), (20, 30.0)],
)
def test_pauses_double_up_to_a_bound(restart: int, pause: float) -> None:
    assert backoff(restart, first=1.0, longest=30.0) == pause


def test_restarts_older_than_the_window_are_forgotten(tmp_path: Path) -> None:
    spec = python_spec(tmp_path, "web", "import sys; sys.exit(1)")
    supervisor = Supervisor([spec], echo=lambda _: None, max_restarts=1, restart_window=0.2)
    died = ProcessExited(name="web", returncode=1, log_path=spec.log_path, log_tail="")

    assert supervisor._next_delay(died) == 1.0
    with pytest.raises(ProcessExited):
        supervisor._next_delay(died)
    time.sleep(0.3)
    assert supervisor._next_delay(died) == 1.0
