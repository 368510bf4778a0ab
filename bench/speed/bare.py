"""The baseline: Rasa's own ``rasa init`` mood bot, trained once with the project's Rasa.

Cached under ``var/bench/bare`` and retrained only when its model is missing or was trained by
another Rasa version, since a baseline from another Rasa would not measure this project's cost.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from enum import Enum
from importlib.metadata import version
from pathlib import Path

from bot.runner.environment import NO_TELEMETRY
from bot.runner.spec import ProcessSpec
from bot.runner.training import rasa_command
from bot.settings import PROJECT_ROOT

BARE_DIR = PROJECT_ROOT / "var" / "bench" / "bare"
STARTUP_TIMEOUT = 180.0


class Step(Enum):
    """What the cache needs before the bare bot can start."""

    REUSE = "reuse"
    TRAIN = "train"
    INIT = "init"


def rasa_version() -> str:
    """The project's Rasa, read without importing it (that takes seconds)."""
    return version("rasa")


def model_version(model: Path) -> str | None:
    """The Rasa version recorded in a model archive; ``None`` when it cannot be read."""
    try:
        with tarfile.open(model) as archive:
            member = archive.extractfile("metadata.json")
            if member is None:
                return None
            return json.load(member).get("rasa_open_source_version")
    except (OSError, tarfile.TarError, KeyError, ValueError):
        return None


def newest_model(bare_dir: Path) -> Path | None:
    models = sorted((bare_dir / "models").glob("*.tar.gz"), key=lambda path: path.stat().st_mtime)
    return models[-1] if models else None


def next_step(bare_dir: Path, wanted_version: str) -> Step:
    """The cache decision: reuse a model of this Rasa; retrain an existing project; else init."""
    if not (bare_dir / "domain.yml").is_file():
        return Step.INIT
    model = newest_model(bare_dir)
    if model is not None and model_version(model) == wanted_version:
        return Step.REUSE
    return Step.TRAIN


def prepare(bare_dir: Path = BARE_DIR) -> Step:
    """Make sure ``bare_dir`` holds the init bot and a model of the project's Rasa."""
    step = next_step(bare_dir, rasa_version())
    env = {**os.environ, **NO_TELEMETRY}
    if step is Step.INIT:
        if bare_dir.exists():
            shutil.rmtree(bare_dir)
        bare_dir.mkdir(parents=True)
        # --no-prompt trains the model too, into bare_dir/models.
        argv = rasa_command("init", "--no-prompt", "--init-dir", str(bare_dir))
    elif step is Step.TRAIN:
        shutil.rmtree(bare_dir / "models", ignore_errors=True)
        argv = rasa_command("train")
    else:
        return step
    subprocess.run(argv, cwd=bare_dir, env=env, check=True)
    if next_step(bare_dir, rasa_version()) is not Step.REUSE:
        raise RuntimeError(f"no model of Rasa {rasa_version()} in {bare_dir}/models after {step}")
    return step


def server_spec(port: int, bare_dir: Path = BARE_DIR) -> ProcessSpec:
    """``rasa run --enable-api`` as ``rasa init`` leaves it (REST channel), on loopback only:
    its API has no token."""
    argv = rasa_command("run", "--enable-api", "--interface", "127.0.0.1", "--port", str(port))
    return ProcessSpec(
        name="bare-rasa",
        argv=tuple(argv),
        log_dir=bare_dir / "logs",
        env=NO_TELEMETRY,
        cwd=bare_dir,
        port=port,
        bind_host="127.0.0.1",
        label="le Rasa nu (rasa init)",
        health_url=f"http://127.0.0.1:{port}/",
        startup_timeout=STARTUP_TIMEOUT,
    )
