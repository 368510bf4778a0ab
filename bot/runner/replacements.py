"""Methods of Rasa's that we replace, as tables: one place puts a table in place."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: A replaced method of Rasa's: its class, its name and what takes its place.
Replacement = tuple[type, str, Any]


def install(replacements: Iterable[Replacement]) -> None:
    """Put each replacement in place in this process (idempotent)."""
    for owner, name, replacement in replacements:
        setattr(owner, name, replacement)
