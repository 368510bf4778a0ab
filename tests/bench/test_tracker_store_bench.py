"""The tracker-store bench replays real turns and compares the two stores on the same work."""

from __future__ import annotations

import re

import pytest
from rasa.shared.core.events import Event

from bench import tracker_store
from bot.runner import rasa_speedups


def test_recorded_conversations_are_cut_at_each_tenant_message() -> None:
    recorded = tracker_store.conversations()
    assert len(recorded) == 12
    for turns in recorded:
        assert all(event["event"] != "user" for event in turns[0][1:])
        assert all(turn[0]["event"] == "user" for turn in turns[1:])
        assert sum(event["event"] == "user" for turn in turns for event in turn) == len(turns) - (
            turns[0][0]["event"] != "user"
        )


def test_the_fixture_holds_demo_households_only() -> None:
    text = tracker_store.FIXTURE.read_text(encoding="utf-8")
    assert "@" in text
    for address in re.findall(r"[\w.+-]+@([\w-]+(?:\.[\w-]+)+)", text):
        assert address == "example.org"


def test_the_lookup_is_put_back_after_each_measure() -> None:
    before = vars(Event)["resolve_by_type"]
    with tracker_store.event_lookup(ours=True):
        assert Event.resolve_by_type is rasa_speedups.resolve_event_type
    assert vars(Event)["resolve_by_type"] is before


def test_both_stores_play_every_turn_and_the_table_is_printed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    tracker_store.main(["--rounds", "1"])
    out = capsys.readouterr().out
    turns = sum(len(turns) for turns in tracker_store.conversations())
    assert f"{turns} turns of 12 conversations" in out
    assert "| Rasa's SQLTrackerStore |" in out
    assert "| PooledSQLTrackerStore |" in out
    assert "| ratio | ×" in out
