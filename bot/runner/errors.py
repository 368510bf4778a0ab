"""Why the run command stops; every message is French and meant for the operator as is.

::

    RunnerError
     ├── PortInUse          a port the stack needs is already taken
     ├── ProcessDied        a child exited (exit code + tail of its log)
     │    ├── StartupFailed     ... before it answered its health check
     │    └── ProcessExited     ... after the stack was up
     ├── StartupTimeout     a child never answered its health check in time
     └── TrainingFailed     ``rasa train`` exited non-zero
"""

from __future__ import annotations

import signal
from pathlib import Path


def describe_exit(returncode: int) -> str:
    """Popen reports "killed by signal N" as ``-N``; say it the way an operator reads it."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = str(-returncode)
        return f"tué par le signal {name}"
    return f"code de sortie {returncode}"


class RunnerError(Exception):
    """Base class: ``str(error)`` is the message to print."""


class PortInUse(RunnerError):
    def __init__(
        self, *, port: int, label: str, env_var: str | None, hint: str | None = None
    ) -> None:
        """``hint`` replaces the suggestion built from ``env_var`` (another command's)."""
        self.port = port
        self.label = label
        self.env_var = env_var
        if hint is None:
            hint = (
                f" ou choisissez-en un autre avec la variable {env_var}"
                f" (par exemple {env_var}={port + 1} make run)"
                if env_var
                else ""
            )
        super().__init__(
            f"Le port {port} est déjà utilisé ; {label} en a besoin. "
            f"Arrêtez le programme qui l'occupe{hint}."
        )


class ProcessDied(RunnerError):
    """A child exited on its own; the log tail usually says why."""

    when = "s'est arrêté"

    def __init__(self, *, name: str, returncode: int, log_path: Path, log_tail: str) -> None:
        self.name = name
        self.returncode = returncode
        self.log_path = log_path
        self.log_tail = log_tail
        super().__init__(
            f"Le processus « {name} » {self.when} ({describe_exit(returncode)}).\n"
            f"Dernières lignes de {log_path} :\n{log_tail}"
        )


class StartupFailed(ProcessDied):
    when = "s'est arrêté pendant le démarrage"


class ProcessExited(ProcessDied):
    when = "s'est arrêté en cours de fonctionnement"


class StartupTimeout(RunnerError):
    def __init__(
        self, *, name: str, url: str, timeout: float, log_path: Path, log_tail: str
    ) -> None:
        self.name = name
        self.url = url
        self.timeout = timeout
        self.log_tail = log_tail
        super().__init__(
            f"« {name} » ne répond pas sur {url} après {timeout:.0f} s.\n"
            f"Dernières lignes de {log_path} :\n{log_tail}"
        )


class TrainingFailed(RunnerError):
    def __init__(self, returncode: int) -> None:
        self.returncode = returncode
        super().__init__(f"L'entraînement Rasa a échoué (code de sortie {returncode}).")
