"""What a Rasa button shows and sends, whichever of title and payload it lacks."""

from __future__ import annotations

from typing import Any


def button_title(button: dict[str, Any], missing: str = "") -> str:
    """What a Rasa button shows: its title, else its payload."""
    return str(button.get("title") or button.get("payload") or missing)


def button_payload(button: dict[str, Any], missing: str = "") -> str:
    """What a Rasa button sends: its payload, else its title."""
    return str(button.get("payload") or button.get("title") or missing)
