"""The end-to-end test stories (tests/test_stories.yml) pass against the trained model."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.runner.training import has_model

ROOT = Path(__file__).resolve().parents[1]


def test_every_test_story_is_predicted_correctly(tmp_path: Path):
    if not has_model(ROOT):
        pytest.fail("No trained model in models/: run the README's test command, which trains it")
    rasa = Path(sys.executable).with_name("rasa")
    result = subprocess.run(
        [
            str(rasa),
            "test",
            "core",
            "--stories",
            "tests/test_stories.yml",
            "--model",
            "models/",
            "--out",
            str(tmp_path),
            "--fail-on-prediction-errors",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    failed = tmp_path / "failed_test_stories.yml"
    report = failed.read_text() if failed.exists() else result.stderr[-3000:]
    assert result.returncode == 0, report
