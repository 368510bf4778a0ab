"""The daily jobs ship as a systemd timer and a cron entry (issue 12) that run the real
command: the units pass ``systemd-analyze verify`` once their paths point at this checkout,
the timer fires once a day at night in Paris, and both start ``bot.cli daily-jobs``."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
INSTALLED_ROOT = "/srv/tenant-assistant"
SERVICE = DEPLOY / "systemd" / "tenant-assistant-daily-jobs.service"
TIMER = DEPLOY / "systemd" / "tenant-assistant-daily-jobs.timer"
CRON = DEPLOY / "cron" / "tenant-assistant"
COMMAND = ".venv/bin/python -m bot.cli daily-jobs"


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    return found


def setting(unit: Path, key: str) -> str:
    (value,) = re.findall(rf"^{key}=(.*)$", unit.read_text(encoding="utf-8"), re.MULTILINE)
    return value


def test_the_units_verify_once_pointed_at_this_checkout(tmp_path: Path) -> None:
    env_file = tmp_path / "production.env"
    env_file.write_text("ASSISTANT_ENV=production\n", encoding="utf-8")
    root = str(PROJECT_ROOT)
    for unit in (SERVICE, TIMER):
        text = unit.read_text(encoding="utf-8").replace(INSTALLED_ROOT, root)
        text = text.replace("/etc/tenant-assistant/production.env", str(env_file))
        text = re.sub(r"^(User|Group)=.*$", "", text, flags=re.MULTILINE)
        (tmp_path / unit.name).write_text(text, encoding="utf-8")

    verified = subprocess.run(
        [systemd_analyze(), "verify", str(tmp_path / TIMER.name), str(tmp_path / SERVICE.name)],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert verified.returncode == 0, verified.stderr
    assert verified.stderr.strip() == ""


def test_the_timer_runs_the_jobs_once_a_night_in_paris() -> None:
    calendar = setting(TIMER, "OnCalendar")
    shown = subprocess.run(
        [systemd_analyze(), "calendar", "--iterations=3", calendar],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert calendar.endswith("Europe/Paris")
    assert re.fullmatch(r"\*-\*-\* 0[0-5]:\d\d:00 Europe/Paris", calendar)
    assert setting(TIMER, "Unit") == SERVICE.name
    assert setting(TIMER, "Persistent") == "true"


def test_both_start_the_daily_jobs_command_of_the_checkout() -> None:
    assert setting(SERVICE, "ExecStart") == f"{INSTALLED_ROOT}/{COMMAND}"
    assert setting(SERVICE, "WorkingDirectory") == INSTALLED_ROOT
    (entry,) = [
        line for line in CRON.read_text(encoding="utf-8").splitlines() if line[:1].isdigit()
    ]
    assert entry.startswith("15 3 * * * tenant-assistant ")
    assert f"cd {INSTALLED_ROOT} " in entry and COMMAND in entry
    assert "CRON_TZ=Europe/Paris" in CRON.read_text(encoding="utf-8")

    helped = subprocess.run(
        [sys.executable, "-m", "bot.cli", "daily-jobs", "--help"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert helped.returncode == 0, helped.stderr
    assert "--today" in helped.stdout
