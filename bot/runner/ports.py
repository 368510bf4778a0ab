"""Port checks done before anything starts, so a clash gets a clear message, not a traceback."""

from __future__ import annotations

import socket

from bot.runner.errors import PortInUse


def port_is_free(port: int, host: str = "0.0.0.0") -> bool:
    """Whether a server could bind ``host:port`` now.

    ``SO_REUSEADDR`` mirrors what servers set, so sockets left in TIME_WAIT by a previous run
    do not count as taken, while a listening socket does.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def ensure_port_free(
    port: int, *, label: str, env_var: str | None = None, host: str = "0.0.0.0"
) -> None:
    """Raise :class:`PortInUse` naming the port, who needs it and the variable that moves it."""
    if not port_is_free(port, host):
        raise PortInUse(port=port, label=label, env_var=env_var)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now: for benches and tests that start the stack beside others."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
