"""The speed bench's record, JSON and Markdown: ratios to the bare bot of the same level, goals."""

from __future__ import annotations

import json

from bench.speed.report import results_markdown, tables
from bench.speed.results import ALL_TURNS, memory, record, rows, write_json
from bench.speed.stats import Measure

MB = 1024 * 1024


def measure(scenario: str, server: str, level: int, latency: float, count: int = 4) -> Measure:
    """``count`` messages one after the other, each ``latency`` seconds."""
    m = Measure(scenario, server, level)
    intervals = [(i * latency, (i + 1) * latency) for i in range(count)]
    cpu = {"bare-rasa": 0.05 * count} if server == "bare" else {"rasa": 0.1 * count}
    m.add(intervals, conversations=1, failed=0, cpu=cpu)
    return m


def sample_record() -> dict:
    measures = [
        measure("mood bot", "bare", 1, 0.100),
        measure("help page", "ours", 1, 0.100),
        measure("payment", "ours", 1, 0.200),
        measure("mood bot", "bare", 10, 0.500),
        measure("help page", "ours", 10, 0.400),
        measure("payment", "ours", 10, 0.500),
    ]
    return record(
        measures=measures,
        run={"conversations": 1, "concurrency": [1, 10], "command": "python -m bench.speed"},
        machine_info={
            "date": "2026-01-01T00:00:00+00:00",
            "cpus": 2,
            "memory_gb": 8.0,
            "load_average_at_start": [0.1, 0.1, 0.1],
            "platform": "Linux",
            "python": "3.10.13",
            "rasa": "3.6.21",
            "commit": "abc1234",
        },
        cold_start_s={"bare": 12.0, "ours": 45.0},
        memory_info=memory({"bare-rasa": 900 * MB, "rasa": 1500 * MB}, 1900 * MB, 2800 * MB),
    )


def by_name(data: dict, level: int) -> dict:
    return {r["scenario"]: r for r in data["rows"] if r["concurrency"] == level}


def test_ratios_are_to_the_bare_bot_at_the_same_level():
    data = sample_record()
    one, ten = by_name(data, 1), by_name(data, 10)
    assert one["mood bot"]["throughput_ratio"] == 1.0
    assert one["help page"]["throughput_ratio"] == 1.0
    assert one["payment"]["throughput_ratio"] == 0.5
    assert one["payment"]["p95_ratio"] == 2.0
    assert ten["help page"]["throughput_ratio"] == 1.25
    assert ten["help page"]["p95_ratio"] == 0.8


def test_every_turn_of_ours_is_pooled_per_level():
    one = by_name(sample_record(), 1)[ALL_TURNS]
    assert one["messages"] == 8
    assert one["msg_per_s"] == round(8 / 1.2, 4)
    assert one["cpu_s_per_msg"] == {"rasa": 0.1}


def test_each_level_lists_bare_first_then_ours_then_the_pool():
    measures = [measure("help page", "ours", 1, 0.1), measure("mood bot", "bare", 1, 0.1)]
    names = [(r["concurrency"], r["scenario"]) for r in rows(measures)]
    assert names == [(1, "mood bot"), (1, "help page"), (1, ALL_TURNS)]


def test_goals_say_which_targets_are_met():
    goals = {g["goal"]: g for g in sample_record()["goals"]}
    assert goals["a tenant's turn, 1 at a time: msg/s ÷ bare"]["met"] is False
    assert goals["a tenant's turn, 10 at a time: msg/s ÷ bare"]["value"] == round(8 / 3.6 / 2.0, 3)
    assert goals["a tenant's turn, 10 at a time: p95 ÷ bare p95"]["met"] is True
    assert goals["peak RSS of our processes together, MiB"]["met"] is True
    assert goals["cold start (bare), s"]["met"] is True
    assert goals["cold start (ours), s"]["met"] is False


def test_json_is_strict_json_with_null_for_what_could_not_be_measured(tmp_path):
    data = sample_record()
    data["rows"].append(rows([Measure("empty", "bare", 5)])[0])
    path = tmp_path / "results" / "speed.json"
    write_json(data, path)
    loaded = json.loads(path.read_text(), parse_constant=lambda name: 1 / 0)
    assert loaded["rows"][-1]["msg_per_s"] is None
    assert loaded["cold_start_s"] == {"bare": 12.0, "ours": 45.0}


def test_markdown_has_the_method_the_tables_and_links_to_the_plot_and_json():
    text = results_markdown(sample_record(), plot="results/speed.png", raw="results/speed.json")
    assert text.startswith("# ")
    assert "![" in text and "(results/speed.png)" in text
    assert "[`results/speed.json`](results/speed.json)" in text
    assert "| payment | 10 | 1 | 0 | 4 | 2.0 | 500 | 500 | 500 | ×1.00 | ×1.00 |" in text
    assert "| cold start (ours), s | 45 | < 40 | **no** |" in text
    assert "| **ours together** (peak of the sum) | **1900** |" in text
    assert "abc1234" in text


def test_cpu_table_has_a_column_per_process_bare_first():
    printed = tables(sample_record())
    header = next(line for line in printed.splitlines() if "bare Rasa |" in line)
    assert header.index("bare Rasa") < header.index("our Rasa")
    assert "| mood bot (bare) | 1 | 50.0 |  | 50.0 |" in printed
