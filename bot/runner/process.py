"""One child process in its own process group, so stopping it also stops whatever it spawned."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections import deque
from pathlib import Path

from bot.runner.spec import ProcessSpec


class ManagedProcess:
    """A launched :class:`ProcessSpec`: its ``Popen``, its log file and its process group."""

    def __init__(self, spec: ProcessSpec, popen: subprocess.Popen[bytes]) -> None:
        self.spec = spec
        self.popen = popen
        self.started_at = time.monotonic()

    @classmethod
    def launch(cls, spec: ProcessSpec, *, base_env: dict[str, str] | None = None) -> ManagedProcess:
        """Start ``spec`` with output to its log file (truncated, so the tail is this run's)."""
        spec.log_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ if base_env is None else base_env)
        env.update(spec.env)
        with spec.log_path.open("wb") as log:
            popen = subprocess.Popen(
                list(spec.argv),
                cwd=spec.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return cls(spec, popen)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def pid(self) -> int:
        return self.popen.pid

    def poll(self) -> int | None:
        return self.popen.poll()

    def signal_group(self, signum: int) -> bool:
        """Send ``signum`` to the whole group; False when nothing is left in it."""
        try:
            os.killpg(self.popen.pid, signum)
        except (ProcessLookupError, PermissionError):
            return False
        return True

    def log_tail(self, lines: int = 20) -> str:
        return read_tail(self.spec.log_path, lines)


def read_tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a log file, tolerant of a missing file and bad bytes."""
    try:
        with path.open("r", encoding="utf-8", errors="replace") as handle:
            tail = deque(handle, maxlen=lines)
    except FileNotFoundError:
        return "(journal absent)"
    text = "".join(tail).rstrip()
    return text or "(journal vide)"


def stop_processes(processes: list[ManagedProcess], *, timeout: float = 10.0) -> None:
    """SIGTERM every group, wait up to ``timeout`` seconds in total, then SIGKILL what is left.

    Groups are signalled even when their leader already exited, so orphans it left behind
    (workers, reloaders) go too.
    """
    for process in processes:
        process.signal_group(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in processes:
        remaining = max(0.0, deadline - time.monotonic())
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.popen.wait(timeout=remaining)
    for process in processes:
        process.signal_group(signal.SIGKILL)
        process.popen.wait()
