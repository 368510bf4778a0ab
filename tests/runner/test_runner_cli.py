"""The operator CLI: argument parsing, no Rasa import, a clear failure on a taken port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import date
from pathlib import Path

from bot.cli import build_parser
from bot.settings import PROJECT_ROOT


def test_run_options() -> None:
    args = build_parser().parse_args(["run", "--no-train", "--timeout", "30"])
    assert (args.command, args.no_train, args.timeout) == ("run", True, 30.0)


def test_deactivate_moved_out_takes_an_optional_reference_date() -> None:
    parser = build_parser()
    assert parser.parse_args(["deactivate-moved-out", "--today", "2025-01-31"]).today == date(
        2025, 1, 31
    )
    assert parser.parse_args(["deactivate-moved-out"]).today is None


def test_cli_module_does_not_import_rasa_or_tensorflow() -> None:
    code = "import sys, bot.cli; print(sorted({'rasa', 'tensorflow'} & set(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_run_exits_non_zero_with_a_french_message_when_the_portal_port_is_taken(
    tmp_path: Path,
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        env = {**os.environ, "PORTAL_PORT": str(port), "ASSISTANT_VAR_DIR": str(tmp_path)}
        result = subprocess.run(
            [sys.executable, "-m", "bot.cli", "run", "--no-train"],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert result.returncode == 1
    assert f"Le port {port} est déjà utilisé" in result.stderr
    assert "PORTAL_PORT" in result.stderr
    assert "Traceback" not in result.stderr
