"""Scenario files: one YAML file per category, a list of scenarios, each a list of turns.

A turn does one thing (``user``: a message or a button payload; ``button``: the title of a button
the assistant just offered; ``verify``: the account e-mail, then the code e-mailed to it;
``upload``: a PDF through the newest upload link; ``pay``: the newest payment link, decided in
the sandbox) and then checks what came back (``checks.Expect``) and what it caused
(``mail``, ``no_mail``, ``link``). ``household`` gives a scenario a fresh household of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bench.conversations.checks import Expect

SCENARIO_DIR = Path(__file__).parent / "scenarios"
ACTIONS = ("user", "button", "verify", "upload", "pay")
EFFECTS = ("mail", "no_mail", "link", "on_email")


class ScenarioError(ValueError):
    """A scenario file that cannot be run as written (named with the scenario)."""


@dataclass(frozen=True)
class Turn:
    """One step of a conversation and what the tenant must notice after it."""

    action: str
    value: Any
    expect: Expect
    mail: dict[str, Any] | None = None
    no_mail: list[str] = field(default_factory=list)
    link: dict[str, Any] | None = None
    on_email: Expect | None = None

    @property
    def label(self) -> str:
        return f"{self.action}: {self.value}" if self.action != "user" else repr(self.value)


@dataclass(frozen=True)
class Scenario:
    category: str
    name: str
    turns: list[Turn]
    household: dict[str, Any] | None = None
    note: str = ""


def parse_turn(raw: dict[str, Any]) -> Turn:
    actions = [key for key in ACTIONS if key in raw]
    if len(actions) != 1:
        raise ScenarioError(f"a turn needs exactly one of {ACTIONS}: {raw}")
    (action,) = actions
    rest = {key: value for key, value in raw.items() if key not in (action, *EFFECTS)}
    no_mail = raw.get("no_mail") or []
    return Turn(
        action=action,
        value=raw[action],
        expect=Expect.parse(rest, silent_ok=action in ("upload", "pay")),
        mail=raw.get("mail"),
        no_mail=[no_mail] if isinstance(no_mail, str) else list(no_mail),
        link=raw.get("link"),
        on_email=Expect.parse(raw["on_email"]) if raw.get("on_email") else None,
    )


def parse_scenario(category: str, raw: dict[str, Any]) -> Scenario:
    name = raw.get("name") or ""
    try:
        turns = [parse_turn(turn) for turn in raw["turns"]]
    except (KeyError, TypeError, ScenarioError) as error:
        raise ScenarioError(f"{category}/{name}: {error}") from error
    return Scenario(category, name, turns, raw.get("household"), raw.get("note", ""))


def load_category(path: Path) -> list[Scenario]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return [parse_scenario(path.stem, raw) for raw in loaded]


def load_scenarios(directory: Path = SCENARIO_DIR) -> list[Scenario]:
    """Every scenario, by file then order; names are unique within a category."""
    scenarios = [s for path in sorted(directory.glob("*.yml")) for s in load_category(path)]
    seen: set[tuple[str, str]] = set()
    for scenario in scenarios:
        key = (scenario.category, scenario.name)
        if not scenario.name or key in seen:
            raise ScenarioError(f"{scenario.category}: missing or repeated name {scenario.name!r}")
        seen.add(key)
    return scenarios


def select(
    scenarios: list[Scenario], *, only: list[str] | None = None, keyword: str | None = None
) -> list[Scenario]:
    """``--only CATEGORY`` (repeatable) and ``-k`` (a part of the name) filters."""
    return [
        s
        for s in scenarios
        if (not only or s.category in only) and (not keyword or keyword.lower() in s.name.lower())
    ]
