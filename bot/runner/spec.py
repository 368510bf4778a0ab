"""What the supervisor needs to know to start, check and name one child process."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ProcessSpec:
    """One child process of the stack.

    Attributes:
        name: short id, used for the log file name and in messages.
        argv: the command, ``argv[0]`` included.
        log_dir: stdout and stderr go to ``log_dir/<name>.log``.
        env: variables added to (and overriding) the supervisor's environment.
        cwd: working directory; ``None`` keeps the supervisor's.
        port: the port the child listens on, checked free before start.
        bind_host: the address the child binds, so the port check tests the same one.
        port_env_var: the variable an operator sets to move the port (named in messages).
        label: French name used in operator messages ("le serveur Rasa").
        health_url: answers 200 once the child is ready; ``None`` means ready at once.
        startup_timeout: seconds allowed between launch and a healthy answer.
    """

    name: str
    argv: tuple[str, ...]
    log_dir: Path
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    port: int | None = None
    bind_host: str = "0.0.0.0"
    port_env_var: str | None = None
    label: str = ""
    health_url: str | None = None
    startup_timeout: float = 60.0

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    @property
    def display_label(self) -> str:
        return self.label or f"« {self.name} »"
