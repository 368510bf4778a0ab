"""Start-up, health waiting, crash reports and shutdown, with tiny ``python -c`` children."""

from __future__ import annotations

import os
import signal
import socket
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bot.runner import (
    ProcessExited,
    ProcessSpec,
    StartupFailed,
    StartupTimeout,
    Supervisor,
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def python_spec(tmp_path: Path, name: str, code: str, **fields: object) -> ProcessSpec:
    argv = (sys.executable, "-c", textwrap.dedent(code))
    return ProcessSpec(name=name, argv=argv, log_dir=tmp_path / "logs", **fields)  # type: ignore[arg-type]


def quiet(_: str) -> None:
    pass


def wait_for_log(path: Path, text: str, timeout: float = 10.0) -> None:
    """Signals sent before a child installed its handlers would test nothing."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text():
            return
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never appeared in {path}")


def is_alive(pid: int) -> bool:
    """Zombies count as dead: PID 1 in a container may never reap them."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_start_waits_for_the_health_url_then_stop_ends_the_server(tmp_path: Path) -> None:
    port = free_port()
    spec = ProcessSpec(
        name="web",
        argv=(sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"),
        log_dir=tmp_path / "logs",
        cwd=tmp_path,
        port=port,
        bind_host="127.0.0.1",
        health_url=f"http://127.0.0.1:{port}/",
        startup_timeout=20,
    )
    messages: list[str] = []

    with Supervisor([spec], echo=messages.append) as supervisor:
        (process,) = supervisor.processes
        supervisor.check_running()

    assert process.poll() is not None
    assert any("web prêt" in message for message in messages)


def test_child_dying_at_start_up_is_reported_with_name_code_and_log_tail(tmp_path: Path) -> None:
    crasher = python_spec(
        tmp_path,
        "actions",
        """
        import sys
        for number in range(1, 31):
            print(f"ligne {number}")
        sys.exit(3)
        """,
        health_url=f"http://127.0.0.1:{free_port()}/health",
    )
    supervisor = Supervisor([crasher], echo=quiet, poll_interval=0.05)

    with pytest.raises(StartupFailed) as caught:
        supervisor.start()

    error = caught.value
    message = str(error)
    assert (error.name, error.returncode) == ("actions", 3)
    assert "« actions »" in message and "code de sortie 3" in message
    assert "ligne 30" in message and "ligne 11" in message
    assert "ligne 10\n" not in message  # only the last 20 lines
    assert str(crasher.log_path) in message
    assert supervisor.processes == []


def test_a_crash_stops_the_children_already_started(tmp_path: Path) -> None:
    sleeper = python_spec(tmp_path, "portal", "import time; time.sleep(60)")
    crasher = python_spec(
        tmp_path,
        "rasa",
        "raise SystemExit('modèle introuvable')",
        health_url=f"http://127.0.0.1:{free_port()}/",
    )
    supervisor = Supervisor([sleeper, crasher], echo=quiet, poll_interval=0.05)
    launched: list = []
    original_stop = supervisor.stop

    def spy_stop() -> None:
        launched.extend(supervisor.processes)
        original_stop()

    supervisor.stop = spy_stop  # type: ignore[method-assign]

    with pytest.raises(StartupFailed, match="modèle introuvable"):
        supervisor.start()

    assert [process.name for process in launched] == ["portal", "rasa"]
    assert all(process.poll() is not None for process in launched)


def test_silent_child_times_out_and_is_stopped(tmp_path: Path) -> None:
    sleeper = python_spec(
        tmp_path,
        "rasa",
        "import time; print('chargement du modèle', flush=True); time.sleep(60)",
        health_url=f"http://127.0.0.1:{free_port()}/",
        startup_timeout=1.0,
    )
    supervisor = Supervisor([sleeper], echo=quiet, poll_interval=0.1)

    with pytest.raises(StartupTimeout) as caught:
        supervisor.start()

    assert "« rasa » ne répond pas" in str(caught.value)
    assert "chargement du modèle" in str(caught.value)
    assert supervisor.processes == []


def test_stop_terminates_a_cooperative_child_without_waiting_for_the_timeout(
    tmp_path: Path,
) -> None:
    sleeper = python_spec(tmp_path, "portal", "import time; time.sleep(60)")
    supervisor = Supervisor([sleeper], echo=quiet, stop_timeout=10.0)
    supervisor.start()
    (process,) = supervisor.processes

    began = time.monotonic()
    supervisor.stop()

    assert time.monotonic() - began < 5.0
    assert process.poll() == -signal.SIGTERM


def test_stop_kills_a_child_that_ignores_sigterm(tmp_path: Path) -> None:
    stubborn = python_spec(
        tmp_path,
        "rasa",
        """
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("prêt", flush=True)
        time.sleep(60)
        """,
    )
    supervisor = Supervisor([stubborn], echo=quiet, stop_timeout=1.0)
    supervisor.start()
    (process,) = supervisor.processes
    wait_for_log(stubborn.log_path, "prêt")

    began = time.monotonic()
    supervisor.stop()

    assert 1.0 <= time.monotonic() - began < 5.0
    assert process.poll() == -signal.SIGKILL


def test_stop_also_ends_grandchildren(tmp_path: Path) -> None:
    parent = python_spec(
        tmp_path,
        "actions",
        """
        import subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        print(f"petit-enfant {child.pid}", flush=True)
        time.sleep(60)
        """,
    )
    supervisor = Supervisor([parent], echo=quiet)
    supervisor.start()
    wait_for_log(parent.log_path, "petit-enfant")
    grandchild = int(parent.log_path.read_text().split()[-1])

    supervisor.stop()

    deadline = time.monotonic() + 5
    while is_alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not is_alive(grandchild)


def test_watch_reports_which_child_died_later_and_the_rest_is_stopped(tmp_path: Path) -> None:
    steady = python_spec(tmp_path, "portal", "import time; time.sleep(60)")
    fragile = python_spec(
        tmp_path,
        "actions",
        "import sys, time; time.sleep(0.5); print('connexion perdue'); sys.exit(4)",
    )
    # Without restarts (test_runner_restarts.py has them), the first death ends the watch.
    supervisor = Supervisor([steady, fragile], echo=quiet, poll_interval=0.05, max_restarts=0)

    with supervisor:
        processes = list(supervisor.processes)
        with pytest.raises(ProcessExited) as caught:
            supervisor.watch()

    error = caught.value
    assert (error.name, error.returncode) == ("actions", 4)
    assert "en cours de fonctionnement" in str(error)
    assert "connexion perdue" in str(error)
    assert all(process.poll() is not None for process in processes)


def test_stop_is_idempotent(tmp_path: Path) -> None:
    sleeper = python_spec(tmp_path, "portal", "import time; time.sleep(60)")
    supervisor = Supervisor([sleeper], echo=quiet)
    supervisor.stop()
    supervisor.start()
    supervisor.stop()
    supervisor.stop()
    assert supervisor.processes == []


def test_a_child_killed_by_a_signal_is_reported_by_signal_name(tmp_path: Path) -> None:
    supervisor = Supervisor(
        [python_spec(tmp_path, "rasa", "import time; time.sleep(60)")], echo=quiet
    )
    supervisor.start()
    (process,) = supervisor.processes
    os.kill(process.pid, signal.SIGKILL)
    process.popen.wait(timeout=10)

    with pytest.raises(ProcessExited, match="tué par le signal SIGKILL"):
        supervisor.check_running()
    supervisor.stop()
