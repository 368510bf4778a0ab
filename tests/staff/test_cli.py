"""``python -m bot.cli create-staff-admin``: the first administrator of the console."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from bot.cli import main
from bot.portal.models import StaffAccount, StaffRole
from bot.settings import PROJECT_ROOT, Settings
from tests.staff.support import audit_entries, staff_account

PASSWORD = "Tournesol-2025"


@pytest.fixture
def operator_env(portal_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment an operator runs the command with, on the test database."""
    env = {
        "ASSISTANT_VAR_DIR": str(portal_settings.var_dir),
        "PORTAL_DATABASE_URL": portal_settings.resolved_database_url,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("STAFF_ADMIN_PASSWORD", raising=False)
    return env


async def run(*args: str) -> int:
    # The command runs its own event loop: give it a thread, as an operator's shell would.
    return await asyncio.to_thread(main, ["create-staff-admin", *args])


async def staff_count(sessions: sessionmaker) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(StaffAccount))


async def test_creates_the_first_admin_from_the_environment(
    operator_env: dict, sessions: sessionmaker, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("STAFF_ADMIN_PASSWORD", PASSWORD)

    code = await run("--email", "Chef@Example.org", "--name", "Cheffe d'équipe")

    assert (
        code == 0 and "Compte administrateur créé pour chef@example.org" in capsys.readouterr().out
    )
    admin = await staff_account(sessions, "chef@example.org")
    assert (
        admin.role == StaffRole.ADMIN and admin.active and admin.display_name == "Cheffe d'équipe"
    )
    (entry,) = await audit_entries(sessions, "staff_created")
    assert entry.staff_id is None and entry.details == {"role": "admin", "via": "cli"}


async def test_prompts_twice_for_the_password(
    operator_env: dict, sessions: sessionmaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    typed = iter([PASSWORD, PASSWORD])
    prompts: list[str] = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: prompts.append(prompt) or next(typed))

    assert await run("--email", "chef@example.org") == 0

    assert prompts == ["Mot de passe : ", "Confirmez le mot de passe : "]
    assert (await staff_account(sessions, "chef@example.org")).display_name == "chef@example.org"


async def test_refuses_two_different_passwords(
    operator_env: dict, sessions: sessionmaker, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    typed = iter([PASSWORD, "Tournesol-2026"])
    monkeypatch.setattr("getpass.getpass", lambda _prompt: next(typed))

    assert await run("--email", "chef@example.org") == 1

    assert "ne sont pas identiques" in capsys.readouterr().err
    assert await staff_count(sessions) == 0


async def test_refuses_a_weak_password_with_the_rules(
    operator_env: dict, sessions: sessionmaker, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("STAFF_ADMIN_PASSWORD", "motdepasse")

    assert await run("--email", "chef@example.org") == 1

    err = capsys.readouterr().err
    assert err.startswith("Erreur : le mot de passe doit contenir au moins 12 caractères")
    assert "une lettre majuscule" in err and "un chiffre" in err
    assert await staff_count(sessions) == 0


async def test_an_existing_email_is_refused_and_nothing_changes(
    operator_env: dict, sessions: sessionmaker, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("STAFF_ADMIN_PASSWORD", PASSWORD)
    assert await run("--email", "chef@example.org") == 0
    first = await staff_account(sessions, "chef@example.org")
    monkeypatch.setenv("STAFF_ADMIN_PASSWORD", "Autre-Mot-2025")

    assert await run("--email", "CHEF@example.org", "--name", "Autre") == 1

    assert "existe déjà" in capsys.readouterr().err
    again = await staff_account(sessions, "chef@example.org")
    assert (again.password_hash, again.display_name) == (first.password_hash, first.display_name)
    assert await staff_count(sessions) == 1


def test_the_command_as_an_operator_runs_it(tmp_path) -> None:
    """A real process on a new SQLite database: the tables are created on the way."""
    env = {
        **os.environ,
        "ASSISTANT_VAR_DIR": str(tmp_path),
        "PORTAL_DATABASE_URL": "",
        "STAFF_ADMIN_PASSWORD": PASSWORD,
    }
    command = [sys.executable, "-m", "bot.cli", "create-staff-admin", "--email", "chef@example.org"]

    done = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    again = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)

    assert done.returncode == 0, done.stderr
    assert again.returncode == 1 and "existe déjà" in again.stderr
    assert (tmp_path / "portal.db").exists()
