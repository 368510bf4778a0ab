"""The speed bench's schedule against scripted servers (httpx mock transports): every message
timed, bare batches interleaved with ours, CPU charged to the server that was talked to."""

from __future__ import annotations

import json
import os

import httpx

from bench.conversations.responses import ResponseCatalog
from bench.conversations.scenarios import parse_scenario
from bench.speed.play import TimedLive, play, prepared_runs
from bench.speed.processes import RssSampler, cpu_seconds
from bench.speed.schedule import Schedule, Side

CATALOG = ResponseCatalog.from_responses({"utter_answer": [{"text": "Voici la réponse."}]})
BARE = parse_scenario("bare", {"name": "mood bot", "turns": [{"user": "hello"}, {"user": "bye"}]})
HELP = parse_scenario(
    "ours", {"name": "help page", "turns": [{"user": "une question ?", "says": "utter_answer"}]}
)
WRONG = parse_scenario(
    "ours", {"name": "wrong", "turns": [{"user": "autre chose", "says": "utter_answer"}]}
)


def server(name: str, log: list[str]) -> httpx.MockTransport:
    """Answers every message; "autre chose" gets a reply no scenario expects."""

    def handle(request: httpx.Request) -> httpx.Response:
        message = json.loads(request.content)["message"]
        log.append(f"{name}:{message}")
        text = "Hein ?" if message == "autre chose" else "Voici la réponse."
        return httpx.Response(200, json=[{"recipient_id": "x", "text": text}])

    return httpx.MockTransport(handle)


def side(name: str, log: list[str]) -> Side:
    http = httpx.AsyncClient(transport=server(name, log))
    return Side(name, TimedLive(f"http://{name}", "", http), {name: os.getpid()})


async def test_every_message_is_timed_and_every_conversation_checked():
    log: list[str] = []
    live = side("ours", log).live
    runs = await prepared_runs(HELP, live, CATALOG, 5)
    chunk = await play(runs, live, concurrency=2)
    assert len(chunk.intervals) == 5 and len(log) == 5
    assert all(end >= start for start, end in chunk.intervals)
    assert chunk.failed == []
    assert len({run.sender for run in runs}) == 5  # a fresh conversation each


async def test_a_conversation_that_goes_elsewhere_is_a_failure():
    live = side("ours", []).live
    chunk = await play(await prepared_runs(WRONG, live, CATALOG, 2), live, concurrency=2)
    assert len(chunk.failed) == 2
    assert "expected utter_answer" in chunk.failed[0].reasons


async def test_bare_batches_come_before_each_of_ours_at_each_level():
    log: list[str] = []
    schedule = Schedule(side("bare", log), side("ours", log), CATALOG, conversations=1)
    measures = await schedule.run(BARE, [HELP, WRONG], levels=[1, 3])
    warm_up, measured = log[:4], log[4:]
    assert warm_up == ["bare:hello", "bare:bye", "ours:une question ?", "ours:autre chose"]
    batches = [
        "bare:hello", "bare:bye", "ours:une question ?",
        "bare:hello", "bare:bye", "ours:autre chose",
    ]  # fmt: skip
    assert measured == batches * 2
    summary = [(m.concurrency, m.server, m.scenario, m.messages, m.failed) for m in measures]
    assert summary == [
        (1, "bare", "mood bot", 4, 0),
        (1, "ours", "help page", 1, 0),
        (1, "ours", "wrong", 1, 1),
        (3, "bare", "mood bot", 4, 0),
        (3, "ours", "help page", 1, 0),
        (3, "ours", "wrong", 1, 1),
    ]
    assert set(measures[0].cpu) == {"bare"} and set(measures[1].cpu) == {"ours"}
    assert len(schedule.failures) == 3  # warm-up included


def test_cpu_and_memory_of_a_live_process_are_read():
    busy = sum(i * i for i in range(200_000))
    assert busy > 0 and cpu_seconds(os.getpid()) > 0
    with RssSampler({"me": os.getpid(), "gone": 2**22 + 7}, interval=0.01) as sampler:
        pass
    assert sampler.peaks["me"] > 10 * 1024 * 1024
    assert sampler.peaks["gone"] == 0
    assert sampler.peak_sum(["me", "gone"]) == sampler.peaks["me"]
