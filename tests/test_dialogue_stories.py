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
    assert result.returncode == 0, result.stderr[-3000:]
    # Rasa writes this file either way; it lists each wrong prediction with what was predicted.
    report = (tmp_path / "failed_test_stories.yml").read_text()
    assert "None of the test stories failed" in report, report
