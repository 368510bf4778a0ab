"""End-to-end: one huge message no longer takes the Rasa server down (issue 9, finding 2).

Before: a 100 000-character message made the Rasa process grow to 20.8 GB in 54 s until the
kernel killed it (40 000 characters: 4.4 GB, other tenants stalled 6 s). Now every channel
answers such a message itself, before NLU: measured here, the answer comes in well under a
second and the Rasa process's peak memory (``VmHWM``) does not move.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.channels.limits import too_long_reply
from tests.e2e.conftest import Assistant

pytestmark = pytest.mark.e2e

#: Generous bounds: the point is "not minutes, not gigabytes" (a turn of NLU on 100 000
#: characters took the machine's whole memory).
MAX_SECONDS = 5.0
MAX_PEAK_GROWTH_KB = 50 * 1024


def descendants(pid: int) -> list[int]:
    """``pid`` and every process under it (Rasa may be started through a wrapper)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            children = (task / "children").read_text().split()
            queue.extend(int(child) for child in children)
    return found


def peak_rss_kb(pid: int) -> int:
    """The largest resident set each process has had, summed (``VmHWM``)."""
    total = 0
    for process in descendants(pid):
        for line in Path(f"/proc/{process}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
    return total


def rasa_pid(assistant: Assistant) -> int:
    assert assistant.stack is not None
    (rasa,) = [p for p in assistant.stack.supervisor.processes if p.name == "rasa"]
    return rasa.pid


def test_a_100_000_character_message_is_answered_at_once_and_costs_no_memory(
    assistant: Assistant,
) -> None:
    tenant = "rest:e2e-huge-message"
    assert "Bonjour" in assistant.say_text(tenant, "bonjour")  # the model is loaded and warm
    pid = rasa_pid(assistant)
    peak_before = peak_rss_kb(pid)

    started = time.monotonic()
    replies = assistant.say(tenant, "je veux payer mon loyer " * 4_200)  # 100 800 characters
    elapsed = time.monotonic() - started

    peak_growth = peak_rss_kb(pid) - peak_before
    print(f"\n100 800 characters: answered in {elapsed * 1000:.0f} ms, peak RSS +{peak_growth} kB")
    assert [reply["text"] for reply in replies] == [
        too_long_reply(assistant.settings.message_max_chars)
    ]
    assert elapsed < MAX_SECONDS
    assert peak_growth < MAX_PEAK_GROWTH_KB
    # The server is still there, and the conversation goes on as if nothing had been sent.
    assert "Bonjour" in assistant.say_text(tenant, "bonjour")
    assert assistant.stack.supervisor.processes[-1].poll() is None


def test_a_message_at_the_limit_is_read(assistant: Assistant) -> None:
    limit = assistant.settings.message_max_chars
    text = ("bonjour " * limit)[:limit]
    replies = assistant.say("rest:e2e-at-the-limit", text)
    assert replies and replies[0]["text"] != too_long_reply(limit)
