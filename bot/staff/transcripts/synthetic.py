"""Rasa-shaped conversations written straight into an ``events`` table: for the tests and the
benchmark, where running Rasa for 10 000 conversations is not an option.

The rows have the columns and the JSON of ``SQLTrackerStore`` (Rasa 3.6): a session start,
then per tenant message a ``user`` event (text, intent, confidence, ranking, input channel),
the actions it led to, the bot's answer and ``action_listen``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.privacy.redaction import TOKEN_MARK
from bot.staff.transcripts.tracker import EVENTS

#: Intents in the ranking Rasa stores with each message (it keeps ten).
_RANKING = (
    "inform",
    "affirm",
    "deny",
    "greet",
    "register",
    "pay_rent",
    "check_balance",
    "forgot_password",
    "cancel",
    "move_out",
)
_METADATA = {"model_id": TOKEN_MARK, "assistant_id": "tenant-assistant"}


@dataclass(frozen=True)
class Turn:
    """A tenant message, what the assistant did about it and what it answered."""

    text: str
    intent: str
    confidence: float = 0.97
    actions: tuple[str, ...] = ()
    reply: str = "Très bien, je m'en occupe."
    response: str = "utter_default"


def _row(sender: str, type_name: str, at: float, data: dict[str, Any], **names: str | None):
    return {
        "sender_id": sender,
        "type_name": type_name,
        "timestamp": at,
        "intent_name": names.get("intent_name"),
        "action_name": names.get("action_name"),
        "data": json.dumps({"event": type_name, "timestamp": at, "metadata": _METADATA, **data}),
    }


def _action(sender: str, at: float, name: str) -> dict[str, Any]:
    data = {"name": name, "policy": "RulePolicy", "confidence": 1.0, "action_text": None}
    return _row(sender, "action", at, data, action_name=name)


def _user(sender: str, at: float, turn: Turn, channel: str) -> dict[str, Any]:
    ranking = [{"name": turn.intent, "confidence": turn.confidence}] + [
        {"name": name, "confidence": round((1 - turn.confidence) / 10, 6)}
        for name in _RANKING
        if name != turn.intent
    ][:9]
    parse_data = {
        "intent": {"name": turn.intent, "confidence": turn.confidence},
        "entities": [],
        "text": turn.text,
        "message_id": f"{abs(hash((sender, at))):032x}"[:32],
        "metadata": {},
        "text_tokens": [[0, len(turn.text)]],
        "intent_ranking": ranking,
    }
    data = {
        "text": turn.text,
        "parse_data": parse_data,
        "input_channel": channel,
        "message_id": parse_data["message_id"],
    }
    return _row(sender, "user", at, data, intent_name=turn.intent)


def conversation_rows(
    sender: str, turns: Sequence[Turn], *, start: float, channel: str = "socketio"
) -> list[dict[str, Any]]:
    """The events Rasa would store for this conversation, a second or so apart."""
    clock = iter(start + step * 0.25 for step in range(1_000_000))
    rows = [
        _action(sender, next(clock), "action_session_start"),
        _row(sender, "session_started", next(clock), {}),
        _action(sender, next(clock), "action_listen"),
    ]
    for turn in turns:
        rows.append(_user(sender, next(clock), turn, channel))
        rows.append(
            _row(sender, "user_featurization", next(clock), {"use_text_for_featurization": False})
        )
        for action in turn.actions:
            rows.append(_action(sender, next(clock), action))
        rows.append(_action(sender, next(clock), turn.response))
        bot = {
            "text": turn.reply,
            "data": {"buttons": None},
            "metadata": {"utter_action": turn.response},
        }
        rows.append(_row(sender, "bot", next(clock), bot))
        rows.append(_action(sender, next(clock), "action_listen"))
    return rows


async def create_events_table(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(EVENTS.metadata.create_all)


async def write_rows(
    engine: AsyncEngine, rows: Iterable[dict[str, Any]], chunk: int = 5_000
) -> None:
    """Insert the rows in order (ids follow), ``chunk`` per statement."""
    async with engine.begin() as connection:
        for part in _parts(rows, chunk):
            await connection.execute(EVENTS.insert(), part)


def _parts(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    part: list[dict[str, Any]] = []
    for row in rows:
        part.append(row)
        if len(part) == size:
            yield part
            part = []
    if part:
        yield part
