"""Which input channels the Rasa server opens: those of ``credentials.yml`` whose settings are
all present in the environment.

Rasa refuses to start when a ``${VARIABLE}`` of ``credentials.yml`` is unset, and a webhook
channel without its secret must not listen anyway. So the run command writes the channels that
are fully configured to ``<var_dir>/credentials.yml`` and starts Rasa with that file; the
socket.io channel, which needs no secret of its own, is always there, and so is the REST
channel in development and tests. The REST channel cannot authenticate a tenant: outside them
it is written only when the operator gave it a token (``REST_CHANNEL_TOKEN``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from bot.settings import DEVELOPMENT_ENVIRONMENTS

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
CREDENTIALS_FILE = "credentials.yml"
REST_CHANNEL = "bot.channels.rest.RestInput"
#: What the REST channel needs outside development and tests.
REST_TOKEN_VARIABLE = "REST_CHANNEL_TOKEN"
#: Optional settings of a channel: added to its block (as ``${VARIABLE}``) only when set,
#: since Rasa refuses an unset one; the channel falls back on the same variables anyway.
_CHANNEL_STATE = {
    "state_redis_url": "CHANNEL_STATE_REDIS_URL",
    "state_key_prefix": "CHANNEL_STATE_KEY_PREFIX",
}
OPTIONAL_SETTINGS: dict[str, dict[str, str]] = {
    "bot.channels.sms.SmsInput": {"api_base_url": "TWILIO_API_BASE_URL", **_CHANNEL_STATE},
    "bot.channels.telegram.TelegramInput": {"base_url": "TELEGRAM_API_BASE_URL", **_CHANNEL_STATE},
}


def variables_of(block: Any) -> set[str]:
    """Every ``${NAME}`` a channel's settings read."""
    if isinstance(block, str):
        return set(_VARIABLE.findall(block))
    if isinstance(block, Mapping):
        return set().union(*(variables_of(value) for value in block.values()))
    if isinstance(block, list):
        return set().union(*(variables_of(value) for value in block))
    return set()


def configured_channels(
    credentials: Mapping[str, Any], environ: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The channels whose variables are all set (non-empty), and what the others lack."""
    kept: dict[str, Any] = {}
    missing: dict[str, list[str]] = {}
    development = environ.get("ASSISTANT_ENV", "development") in DEVELOPMENT_ENVIRONMENTS
    for channel, block in credentials.items():
        needed = variables_of(block)
        if channel == REST_CHANNEL and not development:
            needed.add(REST_TOKEN_VARIABLE)
        lacking = sorted(name for name in needed if not environ.get(name))
        if lacking:
            missing[channel] = lacking
        else:
            kept[channel] = with_optional_settings(channel, block, environ)
    return kept, missing


def with_optional_settings(channel: str, block: Any, environ: Mapping[str, str]) -> Any:
    """``block`` with the channel's optional settings that are set and not given already."""
    extra = {
        key: f"${{{variable}}}"
        for key, variable in OPTIONAL_SETTINGS.get(channel, {}).items()
        if environ.get(variable) and not (isinstance(block, Mapping) and key in block)
    }
    if not extra:
        return block
    return {**(block or {}), **extra}


def write_credentials(
    project_root: Path, target: Path, environ: Mapping[str, str]
) -> dict[str, list[str]]:
    """Write the configured channels to ``target``; return the left-out ones and what they lack."""
    source = yaml.safe_load((project_root / CREDENTIALS_FILE).read_text(encoding="utf-8")) or {}
    kept, missing = configured_channels(source, environ)
    target.parent.mkdir(parents=True, exist_ok=True)
    header = "# Written by the run command from credentials.yml: the fully configured channels.\n"
    target.write_text(header + yaml.safe_dump(kept, sort_keys=False), encoding="utf-8")
    return missing
