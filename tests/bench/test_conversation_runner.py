"""The conversation bench's runner, scenario files and report, against a scripted assistant."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bench.conversations.checks import unknown_names
from bench.conversations.live import Live, LiveError
from bench.conversations.report import CATEGORIES, table
from bench.conversations.responses import ResponseCatalog
from bench.conversations.runner import ScenarioRun, fill, run_all
from bench.conversations.scenarios import (
    ScenarioError,
    load_scenarios,
    parse_scenario,
    parse_turn,
    select,
)
from bot.settings import PROJECT_ROOT

CATALOG = ResponseCatalog.from_responses(
    {
        "utter_ask_email": [{"text": "Quelle adresse e-mail ?"}],
        "utter_sent": [{"text": "Envoyé à {email}."}],
        "utter_goodbye": [{"text": "Au revoir !"}],
    }
)


class ScriptedLive:
    """The assistant as a script of replies; the mailbox as a list the script fills."""

    def __init__(self, script: dict[str, list[dict[str, Any]]]) -> None:
        self.script = script
        self.said: list[tuple[str, str]] = []
        self.emails: dict[str, list[dict[str, Any]]] = {}
        self.database_url = None

    async def say(self, sender: str, message: str) -> list[dict[str, Any]]:
        self.said.append((sender, message))
        if message.endswith("@example.org"):
            self.emails.setdefault(message, []).insert(
                0, {"subject": "Votre lien", "text": "...", "links": ["http://x/compte/activer"]}
            )
        return self.script.get(message.split("@")[0] if "@" in message else message, [])

    async def mailbox(self, to: str) -> list[dict[str, Any]]:
        return self.emails.get(to, [])

    async def wait_for_mail(self, to: str, *, known: int, subject: str = "") -> dict[str, Any]:
        fresh = self.emails.get(to, [])[: len(self.emails.get(to, [])) - known]
        if not fresh:
            raise LiveError(f"no mail to {to}")
        return fresh[0]


def scenario(*turns: dict[str, Any], household: dict | None = None):
    return parse_scenario("flows", {"name": "a test", "turns": list(turns), "household": household})


async def test_a_passing_scenario_fills_placeholders_and_checks_replies():
    live = ScriptedLive({"bonjour": [{"text": "Quelle adresse e-mail ?"}]})
    run = ScenarioRun(
        scenario({"user": "bonjour", "says": "utter_ask_email"}, {"user": "{email}"}),
        live,  # type: ignore[arg-type]
        CATALOG,
    )
    live.script[run.context["email"].split("@")[0]] = [
        {"text": f"Envoyé à {run.context['email']}."}
    ]
    outcome = await run.run()
    assert outcome.passed, outcome.reasons
    assert live.said[1] == (run.sender, run.context["email"])
    assert run.context["email"].startswith("locataire.")


async def test_a_failing_turn_stops_the_scenario_and_keeps_what_came_back():
    live = ScriptedLive({"bonjour": [{"text": "Au revoir !"}]})
    run = ScenarioRun(
        scenario(
            {"user": "bonjour", "says": "utter_ask_email", "not_says": "utter_goodbye"},
            {"user": "never sent"},
        ),
        live,  # type: ignore[arg-type]
        CATALOG,
    )
    outcome = await run.run()
    assert not outcome.passed and outcome.turn == 1
    assert outcome.reasons == ["expected utter_ask_email", "did not expect utter_goodbye"]
    assert outcome.got == ["utter_goodbye: Au revoir !"]
    assert [message for _, message in live.said] == ["bonjour"]


async def test_an_email_expected_but_not_sent_fails():
    live = ScriptedLive({"oui": [{"text": "Au revoir !"}]})
    outcome = await ScenarioRun(
        scenario({"user": "oui", "mail": {"to": "x@example.org", "subject": "lien"}}),
        live,  # type: ignore[arg-type]
        CATALOG,
    ).run()
    assert not outcome.passed
    assert any("no mail" in reason for reason in outcome.reasons)


async def test_a_button_must_have_been_offered():
    live = ScriptedLive({"aide": [{"text": "Quelle adresse e-mail ?", "buttons": []}]})
    outcome = await ScenarioRun(
        scenario({"user": "aide"}, {"button": "Le faire maintenant"}),
        live,  # type: ignore[arg-type]
        CATALOG,
    ).run()
    assert outcome.turn == 2 and "no button 'Le faire maintenant'" in outcome.reasons[0]


async def test_a_household_without_the_database_is_skipped_not_failed():
    live = Live("http://rasa", "http://portal", http=None)  # type: ignore[arg-type]
    (outcome,) = await run_all([scenario({"user": "x"}, household={})], live, CATALOG)
    assert outcome.skipped and not outcome.passed
    assert "| flows | 1 | 0 | 0 | 1 |" in table([outcome])


def test_placeholders_leave_regex_quantifiers_alone():
    context = {"email": "a@example.org"}
    assert fill("{email} \\d{6} {unknown}", context) == "a@example.org \\d{6} {unknown}"
    assert fill({"to": ["{email}"]}, context) == {"to": ["a@example.org"]}


def test_a_turn_does_exactly_one_thing():
    with pytest.raises(ScenarioError):
        parse_turn({"user": "a", "button": "b"})
    with pytest.raises(ScenarioError):
        parse_turn({"says": "utter_greet"})
    assert parse_turn({"upload": "rib.pdf"}).expect.silent_ok


def test_the_bench_has_150_scenarios_across_every_category():
    scenarios = load_scenarios()
    assert len(scenarios) >= 150
    assert set(Counter(s.category for s in scenarios)) == set(CATEGORIES)
    assert len(select(scenarios, only=["exits"], keyword="payment")) >= 2


def test_every_response_a_scenario_names_exists_in_the_project():
    catalog = ResponseCatalog.from_project(PROJECT_ROOT)
    missing = {
        (s.category, s.name, name)
        for s in load_scenarios()
        for turn in s.turns
        for expect in (turn.expect, turn.on_email)
        if expect is not None
        for name in unknown_names(expect, catalog)
    }
    assert not missing


def test_the_scenario_folder_is_where_the_readme_says(tmp_path: Path):
    (tmp_path / "faq.yml").write_text("- name: one\n  turns:\n    - user: bonjour\n")
    (loaded,) = load_scenarios(tmp_path)
    assert (loaded.category, loaded.name, loaded.turns[0].value) == ("faq", "one", "bonjour")


async def test_a_missing_email_keeps_the_replies_in_the_report():
    live = ScriptedLive({"oui": [{"text": "Au revoir !"}]})
    outcome = await ScenarioRun(
        scenario({"user": "oui", "mail": {"to": "x@example.org"}}),
        live,  # type: ignore[arg-type]
        CATALOG,
    ).run()
    assert outcome.reasons == ["LiveError: no mail to x@example.org"]
    assert outcome.got == ["utter_goodbye: Au revoir !"]


GOODBYE = "Au revoir et bonne journée ! N'hésitez pas à revenir si vous avez une autre question."


class GoodbyeOnly(ScriptedLive):
    """An assistant that says goodbye to everything, sends no e-mail and gives no link."""

    def __init__(self) -> None:
        super().__init__({})

    async def say(self, sender: str, message: str) -> list[dict[str, Any]]:
        return [{"text": GOODBYE}]

    async def verify(self, sender: str, email: str) -> tuple[list[dict], list[dict]]:
        return await self.say(sender, email), await self.say(sender, "123456")

    async def create_household(self, spec: dict[str, Any]) -> dict[str, str]:
        return {"client_number": "12345678", "surname": "Martin", "email": "m@example.org"}


async def test_no_scenario_passes_against_an_assistant_that_only_says_goodbye(monkeypatch):
    """Every scenario asserts something a tenant would notice: none is vacuous."""
    monkeypatch.setattr("bench.conversations.runner.MAIL_SETTLE_SECONDS", 0)
    monkeypatch.setattr(GoodbyeOnly, "wait_for_mail", Live.wait_for_mail)
    catalog = ResponseCatalog.from_project(PROJECT_ROOT)
    live = GoodbyeOnly()
    live.mail_timeout = 0.0  # type: ignore[attr-defined]
    outcomes = await run_all(load_scenarios(), live, catalog, parallel=20)  # type: ignore[arg-type]
    assert [o.scenario.name for o in outcomes if o.passed or o.skipped] == []
