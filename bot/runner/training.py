"""Rasa training as a subprocess: Rasa's own fingerprint decides whether anything is retrained."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from bot.runner.environment import NO_TELEMETRY
from bot.runner.errors import TrainingFailed
from bot.runner.rasa_main import rasa_main_command

MODEL_NAME = "tenant-assistant"
MODELS_DIR = "models"


def has_model(project_root: Path) -> bool:
    return any((project_root / MODELS_DIR).glob("*.tar.gz"))


def rasa_command(*args: str) -> list[str]:
    """``rasa`` from the running interpreter's environment, without importing it here."""
    return [sys.executable, "-m", "rasa", *args]


def train_model(project_root: Path, *, force: bool = False) -> None:
    """Run ``rasa train`` with output on the terminal so its progress bars show.

    Rasa prints "Nothing changed" and keeps the current model when data and config are unchanged.
    """
    argv = rasa_main_command("train", "--fixed-model-name", MODEL_NAME, "--out", MODELS_DIR)
    if force:
        argv.append("--force")
    returncode = subprocess.call(argv, cwd=project_root, env={**os.environ, **NO_TELEMETRY})
    if returncode != 0:
        raise TrainingFailed(returncode)


def ensure_model(project_root: Path, *, train: bool, echo: Callable[[str], None]) -> None:
    """Train when there is no model, or when asked (Rasa then skips it if nothing changed)."""
    if not has_model(project_root):
        echo(f"Aucun modèle dans {MODELS_DIR}/ : entraînement obligatoire.")
        train_model(project_root)
    elif train:
        echo("Entraînement Rasa (ignoré par Rasa si rien n'a changé)…")
        train_model(project_root)
