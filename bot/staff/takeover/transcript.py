"""What the agent reads of a conversation: its tracker's events as lines; pure functions."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

from bot.policy.french_dates import FRANCE
from bot.staff.takeover.rasa_api import STAFF

TENANT, BOT, STAFF_MEMBER, PAUSED, RESUMED = "tenant", "bot", "staff", "paused", "resumed"


@dataclass(frozen=True)
class Line:
    kind: str  # tenant, bot, staff, paused, resumed
    text: str
    buttons: tuple[str, ...]
    timestamp: float
    time: str  # HH:MM in France

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "buttons": list(self.buttons)}


def _time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).astimezone(FRANCE).strftime("%H:%M")


def _line(event: dict[str, Any]) -> Line | None:
    kind = event.get("event")
    timestamp = float(event.get("timestamp") or 0)
    text = event.get("text") or ""
    buttons: tuple[str, ...] = ()
    if kind == "user":
        kind = TENANT
    elif kind == "bot":
        metadata = event.get("metadata") or {}
        kind = STAFF_MEMBER if metadata.get("sent_by") == STAFF else BOT
        data = event.get("data") or {}
        buttons = tuple(str(b.get("title", "")) for b in data.get("buttons") or [])
    elif kind == "pause":
        kind = PAUSED
    elif kind == "resume":
        kind = RESUMED
    else:
        return None
    if kind in (TENANT, BOT, STAFF_MEMBER) and not (text or buttons):
        return None
    return Line(kind, text, buttons, timestamp, _time(timestamp))


def lines(tracker: dict[str, Any], *, since: float = 0.0) -> list[Line]:
    """The messages and pauses of ``tracker`` after the ``since`` timestamp, oldest first."""
    found = (_line(event) for event in tracker.get("events") or [])
    return [line for line in found if line is not None and line.timestamp > since]
