"""Start a set of child processes, wait until they are healthy, watch them, stop them together.

A child that dies while the stack runs is restarted after a short pause that doubles with each
recent restart (``restart_delay``, at most ``max_restart_delay``); past ``max_restarts`` restarts
within ``restart_window`` seconds the supervisor gives up and raises ``ProcessExited``.
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict, deque
from collections.abc import Collection, Sequence

from bot.runner.console import Echo, print_flush
from bot.runner.errors import ProcessExited, StartupFailed, describe_exit
from bot.runner.health import wait_until_healthy
from bot.runner.lifecycle import Started
from bot.runner.ports import ensure_port_free
from bot.runner.process import ManagedProcess, stop_processes
from bot.runner.spec import ProcessSpec


class Supervisor(Started):
    """Generic supervisor; knows nothing about Rasa, so tests drive it with tiny children.

    Use ``start()`` / ``stop()`` or ``with Supervisor(specs) as supervisor:``. Any failure
    during ``start()`` (including Ctrl-C) stops what was already launched before re-raising.
    """

    def __init__(
        self,
        specs: Sequence[ProcessSpec],
        *,
        stop_timeout: float = 10.0,
        poll_interval: float = 0.5,
        echo: Echo = print_flush,
        max_restarts: int = 5,
        restart_window: float = 300.0,
        restart_delay: float = 1.0,
        max_restart_delay: float = 30.0,
    ) -> None:
        self.specs = list(specs)
        self.stop_timeout = stop_timeout
        self.poll_interval = poll_interval
        self.echo = echo
        self.max_restarts = max_restarts
        self.restart_window = restart_window
        self.restart_delay = restart_delay
        self.max_restart_delay = max_restart_delay
        self.processes: list[ManagedProcess] = []
        # When each child was last restarted (monotonic seconds), to apply the cap.
        self.restarts: defaultdict[str, deque[float]] = defaultdict(deque)
        self.stopped = threading.Event()

    def check_ports(self) -> None:
        """Raise :class:`~bot.runner.errors.PortInUse` for the first port already taken."""
        for spec in self.specs:
            if spec.port is not None:
                ensure_port_free(
                    spec.port,
                    label=spec.display_label,
                    env_var=spec.port_env_var,
                    host=spec.bind_host,
                )

    def start(self) -> None:
        self.stopped.clear()
        self.check_ports()
        try:
            base_env = dict(os.environ)
            for spec in self.specs:
                self.echo(f"  démarrage de {spec.name} (journal : {spec.log_path})")
                self.processes.append(ManagedProcess.launch(spec, base_env=base_env))
            wait_until_healthy(self.processes, echo=self.echo, poll_interval=self.poll_interval)
        except BaseException:
            self.stop()
            raise

    def check_running(self, ignore: Collection[str] = ()) -> None:
        """Raise :class:`ProcessExited` if any child has exited since start-up, except those
        named in ``ignore`` (held down on purpose)."""
        for process in self.processes:
            returncode = process.poll()
            if returncode is not None and process.name not in ignore:
                raise ProcessExited(
                    name=process.name,
                    returncode=returncode,
                    log_path=process.spec.log_path,
                    log_tail=process.log_tail(),
                )

    def watch(self) -> None:
        """Block while the children run, restarting one that stops until it is healthy again.

        Returns once :meth:`stop` was called (from another thread).

        Raises:
            ProcessExited: a child stopped once more after ``max_restarts`` restarts within
                ``restart_window`` seconds.
            StartupTimeout: a restarted child did not answer its health check in time.
        """
        while not self.stopped.wait(self.poll_interval):
            try:
                self.check_running()
            except ProcessExited as exited:
                self.restart(exited)

    def restart(self, exited: ProcessExited) -> None:
        """Relaunch the child ``exited`` reports, again while it dies before it is healthy."""
        died: ProcessExited | StartupFailed = exited
        while True:
            index = next(i for i, p in enumerate(self.processes) if p.name == died.name)
            spec = self.processes[index].spec
            delay = self._next_delay(died)
            self.echo(
                f"{spec.display_label[:1].upper()}{spec.display_label[1:]} s'est arrêté"
                f" ({describe_exit(died.returncode)}) ; redémarrage…\n"
                f"Dernières lignes de {died.log_path} :\n{died.log_tail}"
            )
            # Its group may hold orphans (workers) still bound to the port.
            stop_processes([self.processes[index]], timeout=self.stop_timeout)
            if self.stopped.wait(delay):
                return
            _keep_previous_log(spec)
            self.processes[index] = ManagedProcess.launch(spec, base_env=dict(os.environ))
            try:
                wait_until_healthy(
                    [self.processes[index]], echo=self.echo, poll_interval=self.poll_interval
                )
            except StartupFailed as failed:
                died = failed
                continue
            return

    def _next_delay(self, died: ProcessExited | StartupFailed) -> float:
        """Seconds to wait before the next restart; give up past the cap."""
        now = time.monotonic()
        recent = self.restarts[died.name]
        while recent and now - recent[0] > self.restart_window:
            recent.popleft()
        if len(recent) >= self.max_restarts:
            if recent:
                self.echo(
                    f"« {died.name} » : {len(recent)} redémarrages en moins de"
                    f" {self.restart_window:.0f} s ; abandon."
                )
            raise ProcessExited(
                name=died.name,
                returncode=died.returncode,
                log_path=died.log_path,
                log_tail=died.log_tail,
            )
        recent.append(now)
        return backoff(len(recent), first=self.restart_delay, longest=self.max_restart_delay)

    def stop(self) -> None:
        """Stop every child (idempotent): SIGTERM, up to ``stop_timeout`` s, then SIGKILL."""
        self.stopped.set()
        processes, self.processes = self.processes, []
        if processes:
            stop_processes(processes, timeout=self.stop_timeout)


def backoff(restart: int, *, first: float, longest: float) -> float:
    """The pause before the ``restart``-th recent restart: ``first``, doubled each time."""
    return min(longest, first * 2 ** (restart - 1))


def _keep_previous_log(spec: ProcessSpec) -> None:
    """Launching truncates the log; the run that died stays readable as ``<name>.log.1``."""
    if spec.log_path.exists():
        os.replace(spec.log_path, spec.log_path.with_name(f"{spec.log_path.name}.1"))
