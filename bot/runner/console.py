"""Where operator messages go: a plain callable, so tests can collect them instead."""

from __future__ import annotations

from collections.abc import Callable

Echo = Callable[[str], None]


def print_flush(message: str) -> None:
    """Flush at once: the run command's output is often piped (make, CI logs)."""
    print(message, flush=True)
