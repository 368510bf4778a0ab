"""The secrets of the local production run, made once and kept in ``production.env``.

``ASSISTANT_ENV=production`` refuses every development default (``bot/settings.py``), so the
local production topology needs real secrets: they are generated the first time into
``<var_dir>/production.env`` (mode 0600, ``NAME=value`` lines a shell can also source) and
read back on later runs, so sessions, encrypted IBANs and queued emails stay readable across
restarts. A variable already set in the environment wins over the file, which is how an
operator gives the real values (the shop key of the payment platform, the creditor
identifier…). A variable the file lacks (added by a later version) is generated and added.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path

from cryptography.fernet import Fernet

from bot.privacy.files import OWNER_ONLY
from bot.settings import DEV_CREDITOR_IDENTIFIER

#: The real platform's address; with ``SYSTEMPAY_MODE=TEST`` it takes test payments only.
SYSTEMPAY_TEST_URL = "https://paiement.systempay.fr/vads-payment/"


def _token() -> str:
    return secrets.token_urlsafe(32)


def _fernet_key() -> str:
    return Fernet.generate_key().decode()


def creditor_identifier(national_id: str) -> str:
    """A French SEPA creditor identifier (ICS): ``FR``, two check digits, the business code
    ``ZZZ``, the six-character national identifier.

    The check digits are ISO 7064 MOD 97-10 over the national identifier followed by
    ``FR00``, letters read as numbers (A=10 … Z=35); the business code does not count.
    """
    digits = "".join(str(int(char, 36)) for char in f"{national_id}FR00".upper())
    return f"FR{98 - int(digits) % 97:02d}ZZZ{national_id}"


def _local_creditor_identifier() -> str:
    """Valid in shape, random, never the development one (whose national part is zeros)."""
    while True:
        identifier = creditor_identifier(f"{secrets.randbelow(10**6):06d}")
        if identifier != DEV_CREDITOR_IDENTIFIER:
            return identifier


#: Every variable of the file and how its first value is made, in file order.
GENERATED: dict[str, Callable[[], str]] = {
    "PORTAL_SERVICE_TOKEN": _token,
    "RASA_API_TOKEN": _token,
    "PORTAL_SECRET_KEY": _token,
    "ACTION_SERVER_TOKEN": _token,
    "METRICS_TOKEN": _token,
    "REST_CHANNEL_TOKEN": _token,
    "DATA_ENCRYPTION_KEY": _fernet_key,
    "SYSTEMPAY_KEY": _token,
    "SYSTEMPAY_URL": lambda: SYSTEMPAY_TEST_URL,
    "SYSTEMPAY_MODE": lambda: "TEST",
    "CREDITOR_IDENTIFIER": _local_creditor_identifier,
}

_HEADER = (
    "# Secrets of the local production run (python -m bot.cli run-production), made once.\n"
    "# Variables set in the environment win over these values. Keep this file private.\n"
)


def read_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines; blank lines and ``#`` comments skipped; missing file: empty."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, value = line.split("=", 1)
        values[name.strip()] = value.strip()
    return values


def write_env_file(path: Path, values: Mapping[str, str]) -> None:
    """Write ``values`` readable by their owner only, from the first byte (no window at 0644)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = _HEADER + "".join(f"{name}={value}\n" for name, value in values.items())
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, OWNER_ONLY)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), OWNER_ONLY)
        handle.write(body)
    os.replace(temporary, path)


def production_secrets(path: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """The secrets to run with: the environment's, else the file's, else new ones (saved).

    The file is rewritten only when it lacked a variable; it never receives a value that came
    from the environment, so an operator's real key is not copied to disk.
    """
    stored = read_env_file(path)
    missing = [name for name in GENERATED if not stored.get(name)]
    if missing:
        stored.update({name: GENERATED[name]() for name in missing})
        write_env_file(path, stored)
    elif path.exists() and path.stat().st_mode & 0o077:
        os.chmod(path, OWNER_ONLY)
    return {name: environ.get(name) or stored[name] for name in GENERATED}
