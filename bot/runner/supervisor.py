"""Start a set of child processes, wait until they are healthy, watch them, stop them together."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from types import TracebackType

from bot.runner.console import Echo, print_flush
from bot.runner.errors import ProcessExited
from bot.runner.health import wait_until_healthy
from bot.runner.ports import ensure_port_free
from bot.runner.process import ManagedProcess, stop_processes
from bot.runner.spec import ProcessSpec


class Supervisor:
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
    ) -> None:
        self.specs = list(specs)
        self.stop_timeout = stop_timeout
        self.poll_interval = poll_interval
        self.echo = echo
        self.processes: list[ManagedProcess] = []

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

    def check_running(self) -> None:
        """Raise :class:`ProcessExited` if any child has exited since start-up."""
        for process in self.processes:
            returncode = process.poll()
            if returncode is not None:
                raise ProcessExited(
                    name=process.name,
                    returncode=returncode,
                    log_path=process.spec.log_path,
                    log_tail=process.log_tail(),
                )

    def watch(self) -> None:
        """Block while every child runs; raise :class:`ProcessExited` when one stops."""
        while True:
            self.check_running()
            time.sleep(self.poll_interval)

    def stop(self) -> None:
        """Stop every child (idempotent): SIGTERM, up to ``stop_timeout`` s, then SIGKILL."""
        processes, self.processes = self.processes, []
        if processes:
            stop_processes(processes, timeout=self.stop_timeout)

    def __enter__(self) -> Supervisor:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
