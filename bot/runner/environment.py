"""The environment children get: the settings as variables, plus what Rasa's YAML files read.

Children rebuild their own ``Settings.from_env()``, so settings overridden in-process (tests
use other ports and a temporary ``var_dir``) must travel as variables.
"""

from __future__ import annotations

import os
from pathlib import Path

from bot.settings import Settings

#: Rasa reports usage and crashes to a remote service unless told not to; conversations and
#: tracebacks of tenants' sessions must stay here (and CI has no network anyway).
NO_TELEMETRY = {"RASA_TELEMETRY_ENABLED": "false"}
TRACKER_VARIABLES = ("RASA_TRACKER_DIALECT", "RASA_TRACKER_HOST", "RASA_TRACKER_DB")


def settings_env(settings: Settings) -> dict[str, str]:
    """Variables that make ``Settings.from_env()`` in a child rebuild these settings: every
    setting that has a variable (``Settings.variables``), empty ones included, so that a value
    in the supervisor's own environment never overrides what it was given in-process."""
    return {
        variable: _as_variable(getattr(settings, name))
        for name, variable in Settings.variables().items()
    }


def _as_variable(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def local_host(host: str) -> str:
    """An address to reach a server bound to ``host`` from this machine."""
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host


def child_env(settings: Settings, project_root: Path) -> dict[str, str]:
    """What every child adds to the supervisor's environment."""
    pythonpath = os.pathsep.join(
        part for part in (str(project_root), os.environ.get("PYTHONPATH", "")) if part
    )
    return {
        **settings_env(settings),
        "PORTAL_URL": f"http://{local_host(settings.portal_host)}:{settings.portal_port}",
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{settings.actions_port}/webhook",
        **tracker_env(settings),
        "PYTHONPATH": pythonpath,
        # Unbuffered, so the log tail shown after a crash holds the last words.
        "PYTHONUNBUFFERED": "1",
        **NO_TELEMETRY,
    }


def tracker_env(settings: Settings) -> dict[str, str]:
    """The tracker store ``endpoints.yml`` reads: SQLite in ``var_dir`` unless configured.

    An operator who sets ``RASA_TRACKER_DIALECT`` (PostgreSQL in production) keeps their
    values; otherwise each run, tests included, gets its own SQLite file under ``var_dir``.
    """
    if os.environ.get("RASA_TRACKER_DIALECT"):
        return {name: os.environ.get(name, "") for name in TRACKER_VARIABLES}
    return {
        "RASA_TRACKER_DIALECT": "sqlite",
        "RASA_TRACKER_HOST": "",
        "RASA_TRACKER_DB": str(settings.var_dir / "tracker.db"),
    }
