"""The channels' own French wording, from ``messages_fr.yml`` (read once per section)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

MESSAGES_FILE = Path(__file__).with_name("messages_fr.yml")


@functools.cache
def channel_wording(section: str, path: Path = MESSAGES_FILE) -> dict[str, Any]:
    """One channel's section of the channels' wording file (read once per section)."""
    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return dict(loaded.get(section) or {})
