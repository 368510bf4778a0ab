"""The load benchmark's table: each scenario's median against the baseline of the same run."""

from __future__ import annotations

from bench.load import Result, report


def test_ratios_are_to_the_baseline_at_the_same_concurrency():
    results = [
        Result("baseline", 1, [0.020, 0.020, 0.020], wall=1.0),
        Result("question", 1, [0.030, 0.030, 0.030], wall=1.0),
        Result("baseline", 10, [0.100, 0.100, 0.100], wall=1.0),
        Result("question", 10, [0.150, 0.150, 0.150], wall=1.0),
    ]
    rows = report(results).splitlines()[2:]
    assert [row.split("|")[-2].strip() for row in rows] == ["x1.00", "x1.50", "x1.00", "x1.50"]

