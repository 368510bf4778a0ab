"""The speed bench's statistics: percentiles, busy time, msg/s and the ratios to the bare bot."""

from __future__ import annotations

import math

import pytest

from bench.speed.stats import Measure, busy_seconds, percentile, pooled, ratio


def test_percentiles_interpolate_between_ranks():
    values = [float(v) for v in range(100, 0, -1)]  # 100 … 1, order does not matter
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 95) == pytest.approx(95.05)
    assert percentile(values, 99) == pytest.approx(99.01)


def test_percentile_of_one_value_is_that_value_and_of_none_is_nan():
    assert percentile([0.2], 95) == 0.2
    assert math.isnan(percentile([], 50))


def test_busy_time_counts_overlapping_messages_once():
    # two at once from 0 to 3, a gap (the bench waiting for an e-mail), then one more
    assert busy_seconds([(0.0, 2.0), (1.0, 3.0), (5.0, 6.0)]) == pytest.approx(4.0)
    assert busy_seconds([(1.0, 3.0), (0.0, 4.0)]) == pytest.approx(4.0)
    assert busy_seconds([]) == 0.0


def test_throughput_is_messages_over_busy_time_and_latencies_in_ms():
    measure = Measure("payment", "ours", 1)
    measure.add([(0.0, 0.1), (0.1, 0.3), (2.0, 2.2)], conversations=1, failed=0, cpu={"rasa": 0.6})
    assert measure.messages == 3
    assert measure.msg_per_s == pytest.approx(3 / 0.5)
    assert measure.latency_ms(50) == pytest.approx(200)
    assert measure.cpu_per_message() == {"rasa": pytest.approx(0.2)}


def test_chunks_add_up():
    measure = Measure("mood bot", "bare", 10)
    measure.add([(0.0, 1.0)], conversations=1, failed=0, cpu={"bare-rasa": 1.0})
    measure.add([(5.0, 6.0)], conversations=2, failed=1, cpu={"bare-rasa": 3.0})
    assert (measure.messages, measure.busy, measure.conversations, measure.failed) == (2, 2, 3, 1)
    assert measure.cpu == {"bare-rasa": 4.0}


def test_ratio_is_ours_over_bare_and_nan_without_a_bare_figure():
    assert ratio(9.0, 10.0) == pytest.approx(0.9)
    assert math.isnan(ratio(9.0, 0.0))
    assert math.isnan(ratio(9.0, math.nan))


def test_pooled_counts_every_turn_of_every_scenario_once():
    help_page, payment = Measure("help page", "ours", 1), Measure("payment", "ours", 1)
    help_page.add([(0.0, 0.1), (0.1, 0.2)], conversations=1, failed=0, cpu={"rasa": 0.1})
    payment.add([(1.0, 1.5)], conversations=1, failed=1, cpu={"rasa": 0.4, "portal": 0.1})
    total = pooled("all tenant turns", [help_page, payment])
    assert (total.server, total.concurrency, total.messages) == ("ours", 1, 3)
    assert total.msg_per_s == pytest.approx(3 / 0.7)
    assert total.failed == 1
    assert total.cpu == {"rasa": pytest.approx(0.5), "portal": pytest.approx(0.1)}
