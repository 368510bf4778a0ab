"""The scale-out bench's pure parts against fakes: tenants' addresses and token, the
interleaved schedule, CPU by kind of process, the ratios, "what limits it" and the report."""

from __future__ import annotations

import json
from email.message import EmailMessage
from mailbox import Maildir
from pathlib import Path

import httpx
import pytest

from bench.conversations.responses import ResponseCatalog
from bench.conversations.scenarios import parse_scenario
from bench.scale_out.limits import bottleneck, ceiling, paragraphs
from bench.scale_out.logs import log_problems
from bench.scale_out.processes import MACHINE, Watched
from bench.scale_out.report import results_markdown, tables
from bench.scale_out.results import (
    EMBEDDED,
    ONE_SERVER,
    TWO_SERVERS,
    by_kind,
    kind,
    record,
    rows,
)
from bench.scale_out.schedule import Load, Schedule, Target, mixed_runs, turns_total
from bench.scale_out.tenants import SourceAddresses, TimedTenantLive, source_address
from bench.speed.play import TimedLive
from tests.bench.test_speed_report import sample_record as speed_record

CATALOG = ResponseCatalog.from_responses({"utter_answer": [{"text": "Voici la réponse."}]})
HELP = parse_scenario(
    "ours", {"name": "help page", "turns": [{"user": "une question ?", "says": "utter_answer"}]}
)
OTHER = parse_scenario(
    "ours", {"name": "other", "turns": [{"user": "autre question", "says": "utter_answer"}]}
)
METRICS = 'rasa_turns_total{channel="rest"} 3.0\nrasa_turns_total{channel="other"} 2.0\n'


def server(log: list[str]) -> httpx.MockTransport:
    """Answers every message and every ``/metrics``; logs host and message."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/metrics":
            return httpx.Response(200, text=METRICS)
        log.append(f"{request.url.host}:{json.loads(request.content)['message']}")
        return httpx.Response(200, json=[{"recipient_id": "x", "text": "Voici la réponse."}])

    return httpx.MockTransport(handle)


class FakeAddresses(SourceAddresses):
    """Gives each sender its address as the real one does; every client is the mock."""

    def __init__(self, transport: httpx.MockTransport) -> None:
        super().__init__()
        self.mock = httpx.AsyncClient(transport=transport)

    def client(self, sender: str) -> httpx.AsyncClient:
        self.address(sender)
        return self.mock


async def test_tenants_take_the_loopback_hosts_in_turn_and_keep_theirs():
    hosts = [source_address(i) for i in (0, 1, 252, 253)]
    assert hosts == ["127.0.0.2", "127.0.0.3", "127.0.0.254", "127.0.0.2"]
    addresses = SourceAddresses()
    first = addresses.client("a")
    assert addresses.client("b") is not first and addresses.client("a") is first
    assert addresses.senders == {"a": "127.0.0.2", "b": "127.0.0.3"}
    await addresses.aclose()


async def test_tenant_messages_carry_the_token_and_mail_is_read_from_the_maildir(tmp_path):
    headers: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        headers.append(request.headers["Authorization"])
        return httpx.Response(200, json=[{"text": "ok"}])

    addresses = FakeAddresses(httpx.MockTransport(handle))
    email = EmailMessage()
    email["To"], email["Subject"] = "locataire@example.org", "Votre code de vérification"
    email.set_content("Code : 123456")
    Maildir(tmp_path / "mailbox").add(email)
    live = TimedTenantLive(
        "http://nginx", "", httpx.AsyncClient(), token="t0k", maildir=tmp_path / "mailbox"
    )
    live.addresses = addresses

    assert await live.say("s1", "bonjour") == [{"text": "ok"}]
    assert headers == ["Bearer t0k"] and len(live.intervals) == 1
    (mail,) = await live.mailbox("locataire@example.org")
    assert mail["subject"] == "Votre code de vérification" and "123456" in mail["text"]


async def test_a_batch_mixes_the_scenarios():
    live = TimedLive("http://e", "", httpx.AsyncClient(transport=server([])))
    runs = await mixed_runs([HELP, OTHER], live, CATALOG, 3)
    assert [run.scenario.name for run in runs] == ["help page", "other"] * 2


async def test_each_level_plays_every_stack_in_turn_after_warming_every_rasa_server():
    log: list[str] = []
    http = httpx.AsyncClient(transport=server(log))
    addresses = FakeAddresses(server(log))

    def production(name: str, backends: tuple[str, ...]) -> Target:
        live = TimedTenantLive(f"http://{name}", "", http, addresses=addresses)
        return Target(name, live, {}, backends, "service")

    targets = [
        Target(EMBEDDED, TimedLive("http://embedded", "", http), {}),
        production("one", ("http://one-a",)),
        production("two", ("http://two-a", "http://two-b")),
    ]
    schedule = Schedule(targets, CATALOG, Watched(), http, conversations=2)
    loads = await schedule.run([HELP], levels=[1, 2])

    hosts = [entry.split(":")[0] for entry in log]
    warm_up = ["embedded", "one-a", "two-a", "two-b"]  # behind nginx, each server directly
    batches = ["embedded"] * 2 + ["one"] * 2 + ["two"] * 2  # 2 conversations each
    assert hosts == warm_up + batches * 2
    assert [(load.concurrency, load.server, load.messages) for load in loads] == [
        (1, EMBEDDED, 2),
        (1, "one", 2),
        (1, "two", 2),
        (2, EMBEDDED, 2),
        (2, "one", 2),
        (2, "two", 2),
    ]
    assert loads[2].turns == {"rasa-1": 0.0, "rasa-2": 0.0}  # the fake's counters stand still
    assert {"postgres", "redis", "bench client", MACHINE} <= set(loads[0].cpu)
    assert len(set(addresses.senders.values())) == len(addresses.senders) == 11  # one each


def test_prometheus_turns_are_summed_over_channels():
    assert turns_total(METRICS + "rasa_turn_duration_seconds_count 9\n") == 5.0


def test_processes_are_counted_by_kind_and_the_rest_of_the_machine_is_other():
    assert [kind(n) for n in ("rasa", "rasa-2", "portal", "portal-1", "actions-2", "nginx")] == [
        "rasa-1",
        "rasa-2",
        "portals",
        "portals",
        "actions",
        "nginx",
    ]
    cpu = {"portal-1": 1.0, "portal-2": 2.0, "rasa-1": 4.0, MACHINE: 10.0}
    assert by_kind(cpu) == {"portals": 3.0, "rasa-1": 4.0, "other": 3.0}


def load(server: str, level: int, latency: float, cpu: dict[str, float], wall: float) -> Load:
    """Ten messages at once, each ``latency`` seconds: the tenants queue."""
    measured = Load("all tenant turns", server, level)
    measured.add([(0.0, latency)] * 10, conversations=3, failed=0, cpu=cpu)
    measured.wall = wall
    return measured


def sample_loads() -> list[Load]:
    """One server: Rasa on a full core, the machine half idle; two: the cores full."""
    return [
        load(EMBEDDED, 10, 1.0, {"rasa": 0.8, MACHINE: 1.0}, 1.0),
        load(ONE_SERVER, 10, 2.0, {"rasa-1": 2.0, "portal-1": 0.2, MACHINE: 2.4}, 2.0),
        load(
            TWO_SERVERS,
            10,
            1.6,
            {"rasa-1": 1.1, "rasa-2": 1.0, "bench client": 0.3, MACHINE: 3.0},
            1.6,
        ),
    ]


def sample_record() -> dict:
    context = {
        "machine": speed_record()["machine"],
        "run": {
            "concurrency": [10],
            "conversations": 120,
            "rounds": 1,
            "flows": ["help page"],
            "command": "python -m bench.scale_out",
        },
        "cold_start_s": {EMBEDDED: 40.0, ONE_SERVER: 50.0, TWO_SERVERS: 80.0},
        "log_problems": {ONE_SERVER: {}, TWO_SERVERS: {}},
    }
    return record(sample_loads(), context)


def test_ratios_are_to_the_embedded_stack_and_two_servers_to_one():
    embedded, one, two = rows(sample_loads())
    assert (embedded["vs_embedded"], one["vs_embedded"], two["vs_embedded"]) == (1.0, 0.5, 0.625)
    assert two["vs_one_server"] == 1.25
    assert embedded["vs_one_server"] is None and one["vs_one_server"] is None
    assert one["cpu_ms_per_msg"] == {"rasa-1": 200.0, "portals": 20.0, "other": 20.0}
    assert one["in_flight"] == 10.0
    assert one["cores"]["rasa-1"] == 1.0 and one["machine_cores"] == 1.2
    assert two["machine_ms_per_msg"] == 300.0


def test_goal_is_missed_below_one_and_a_half():
    (goal,) = sample_record()["goals"]
    assert (goal["value"], goal["met"]) == (1.25, False)


def test_the_ceiling_is_full_cores_at_two_servers_cost_per_message():
    one, two = rows(sample_loads())[1:]
    # Left out: other (one: 0.1 core, 20 ms; two: 60 ms), then the client too (two: 30 ms).
    assert ceiling(one, two, cpus=2) == pytest.approx(2 / 1.1 * 220 / 240)
    both = ceiling(one, two, cpus=2, without=("other", "bench client"))
    assert both == pytest.approx(2 / 1.1 * 220 / 210)
    (text,) = paragraphs(rows(sample_loads()), cpus=2)
    for said in (
        "×1.25 one server's msg/s",
        "tenants queued (10.0 of 10 messages waiting on average)",
        "the Rasa process is the limit (rasa-1 1.00 core)",
        "1.88 of 2 cores busy (rasa-1 0.69, rasa-2 0.62): the cores are the limit",
        "at most ×1.67 one server's rate, enough for ×1.5",
        "at most ×1.90 one server's rate, enough for ×1.5",
        "also took 0.10 core in the batches of 1 server and 0.38 core in the batches of 2 servers",
    ):
        assert said in text


def test_tenants_that_do_not_queue_set_the_rate_themselves():
    one = {**rows(sample_loads())[1], "in_flight": 2.0}
    assert "tenants did not queue (2.0 of 10" in bottleneck(one, cpus=2)


def test_report_has_every_table_and_the_limits():
    data = sample_record()
    markdown = results_markdown(data, raw="results/scale_out.json")
    for heading in ("## Goal", "## Throughput", "## What limits it", "## CPU milli", "## Cores"):
        assert heading in markdown
    assert "| 2 servers | 10 |" in markdown and "×1.25 |" in markdown
    assert "No error, warning" in markdown
    assert "rasa-1 | rasa-2 | portals | bench client | other | machine |" in tables(data)


def test_log_problems_count_errors_warnings_and_server_replies_of_500(tmp_path: Path):
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "rasa-1.log").write_text(
        '{"event": "lock timed out", "level": "error"}\n'
        "Traceback (most recent call last):\n"
        '{"event": "lock timed out", "level": "error"}\n'
        '{"event": "slow", "level": "warning", "logger": "rasa"}\n'
        '{"event": "deprecated", "level": "warning", "logger": "py.warnings"}\n'
    )
    (tmp_path / "logs" / "portal-1.log").write_text('{"event": "fine", "level": "info"}\n')
    nginx = tmp_path / "nginx" / "logs"
    nginx.mkdir(parents=True)
    (nginx / "error.log").write_text("[warn] 1#1: *2 a client request body is buffered\n")
    (nginx / "access.log").write_text(
        '127.0.0.2 - - [x] "POST /webhooks/rest/webhook HTTP/1.1" 200 12 "-" "-"\n'
        '127.0.0.3 - - [x] "POST /webhooks/rest/webhook HTTP/1.1" 502 12 "-" "-"\n'
    )
    found = log_problems(tmp_path)
    rasa = found["logs/rasa-1.log"]
    assert (rasa["errors"], rasa["warnings"]) == (3, 1)
    assert rasa["samples"][0] == '{"event": "lock timed out", "level": "error"}'
    assert found["nginx/logs/error.log"]["warnings"] == 1
    assert found["nginx/logs/access.log"] == {"errors": 1, "statuses": {"502": 1}}
    assert "logs/portal-1.log" not in found
    markdown = results_markdown({**sample_record(), "log_problems": {"2 servers": found}}, raw="r")
    assert "- 2 servers, `logs/rasa-1.log`: 3 errors, 1 warnings — `{" in markdown
