"""The conversations measured: ``scenarios/bare.yml`` and ``scenarios/ours.yml``, in the
conversation bench's format, so they are parsed and checked by its code."""

from __future__ import annotations

from pathlib import Path

from bench.conversations.scenarios import Scenario, load_category

SCENARIO_DIR = Path(__file__).parent / "scenarios"


def bare_scenario() -> Scenario:
    (scenario,) = load_category(SCENARIO_DIR / "bare.yml")
    return scenario


def our_scenarios() -> list[Scenario]:
    return load_category(SCENARIO_DIR / "ours.yml")
