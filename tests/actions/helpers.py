"""Builders for action tests: trackers, a recording portal on httpx.MockTransport, the domain."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
import yaml
from rasa_sdk import Tracker

from actions.portal_client import PortalClient

ROOT = Path(__file__).resolve().parents[2]


@lru_cache(maxsize=1)
def domain() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def action_names(domain: dict[str, Any]) -> set[str]:
    """The custom actions a domain file lists, bare or with options (``- name: {...}``)."""
    return {next(iter(entry)) if isinstance(entry, dict) else entry for entry in domain["actions"]}


def tracker(
    *,
    slots: dict[str, Any] | None = None,
    text: str = "",
    intent: str = "inform",
    intent_ranking: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
    requested_slot: str | None = None,
    events: list[dict[str, Any]] | None = None,
    channel: str = "rest",
    sender_id: str = "rest:conversation-1",
) -> Tracker:
    all_slots = {
        "client_number": None,
        "surname": None,
        "email": None,
        "input_failures": None,
        "verification_code": None,
        "verified": None,
        "pending_topic": None,
        "session_started_metadata": None,
    }
    all_slots.update(slots or {})
    all_slots["requested_slot"] = requested_slot
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "intent_ranking": intent_ranking or [{"name": intent, "confidence": 0.9}],
        "entities": [],
    }
    user_event = {"event": "user", "text": text, "parse_data": latest, "input_channel": channel}
    return Tracker(
        sender_id=sender_id,
        slots=all_slots,
        latest_message=latest,
        events=(events or []) + [user_event],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


@dataclass
class RecordingPortal:
    """A fake portal answering every call with ``status``/``body`` and keeping the requests."""

    status: int = 202
    body: dict[str, Any] = field(default_factory=lambda: {"status": "accepted"})
    error: Exception | None = None
    requests: list[httpx.Request] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.error is not None:
            raise self.error
        return httpx.Response(self.status, json=self.body)

    def client(self) -> PortalClient:
        return PortalClient(
            "http://portal.test", "secret", transport=httpx.MockTransport(self.handler)
        )

    def sent_json(self, index: int = -1) -> dict[str, Any]:
        return json.loads(self.requests[index].content)
