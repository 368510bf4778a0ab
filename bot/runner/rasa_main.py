"""``python -m bot.runner.rasa_main run|train …``: Rasa's CLI, its API token from the environment.

A token passed as ``--auth-token`` is readable by every local user (``ps``,
``/proc/<pid>/cmdline``). Here it comes from ``RASA_API_TOKEN`` (the environment of a process is
readable by its owner only) and is added to ``sys.argv`` inside the process, after the kernel
recorded the command line, before Rasa's own ``main()`` parses it. Every command also gets
``bot.runner.rasa_speedups`` (per-turn work of Rasa's done once instead; for the server),
``bot.runner.training_speedups`` (each model's training step traced once; for ``train``),
``bot.dialogue.recipe`` (a trained model's graph hands the rule policy's prediction to TED),
``bot.runner.rasa_probes`` (``/ready``, ``/metrics`` and JSON logs in production on the
server's app), ``bot.runner.rasa_metrics`` (turns, their latency and fallbacks counted) and
``bot.dialogue.action_failures`` (an action server out of reach is told to the tenant) and
``bot.dialogue.turn_failures`` (so is a turn that failed: Redis or the tracker's database out
of reach).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

TOKEN_VARIABLE = "RASA_API_TOKEN"


def rasa_main_command(*args: str) -> list[str]:
    """Rasa's CLI through this module, with Rasa's arguments but no token: what the supervisor
    runs (``run``) and what trains the model (``train``)."""
    return [sys.executable, "-m", __name__, *args]


def argv_with_token(argv: Sequence[str], environ: Mapping[str, str]) -> list[str]:
    """``argv`` with ``--auth-token`` from the environment right after ``run``.

    Right after ``run``, not at the end: Rasa takes a last argument that names an existing
    path as the model (``parse_last_positional_argument_as_model_path``).

    Raises:
        SystemExit: ``run --enable-api`` without a token would open Rasa's HTTP API to anyone.
    """
    argv = list(argv)
    if argv[1:2] != ["run"]:
        return argv
    token = environ.get(TOKEN_VARIABLE, "")
    if not token:
        if "--enable-api" in argv:
            raise SystemExit(f"{TOKEN_VARIABLE} est vide : l'API de Rasa resterait ouverte.")
        return argv
    # One argument: a token starting with "-" (1 in 64 of token_urlsafe's) would otherwise be
    # read as an option, and Rasa would refuse to start.
    return [argv[0], "run", f"--auth-token={token}", *argv[2:]]


def main() -> None:
    sys.argv = argv_with_token(sys.argv, os.environ)
    from rasa.__main__ import main as rasa_main

    from bot.runner import replacements

    replacements.install(all_replacements())

    rasa_main()


def all_replacements() -> list:
    """Every table of Rasa's methods this entry point replaces (imported only when used)."""
    from bot.dialogue import action_failures, recipe, turn_failures
    from bot.runner import rasa_metrics, rasa_probes, rasa_speedups, training_speedups

    return (
        rasa_speedups.REPLACEMENTS
        + training_speedups.REPLACEMENTS
        + recipe.REPLACEMENTS
        + rasa_probes.REPLACEMENTS
        + rasa_metrics.REPLACEMENTS
        + action_failures.REPLACEMENTS
        + turn_failures.REPLACEMENTS
    )


if __name__ == "__main__":
    main()
