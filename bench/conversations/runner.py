"""Runs scenarios against a live stack, a few at a time, each with a fresh sender.

A scenario stops at its first failing turn (what follows would test a conversation the tenant
is no longer having); the failure keeps the turn, the reasons and what came back.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx

from bench.conversations.checks import Expect, check, describe, texts, unknown_names
from bench.conversations.live import PAYMENT_LINK, UPLOAD_LINK, Live, LiveError
from bench.conversations.responses import ResponseCatalog
from bench.conversations.scenarios import Scenario, Turn

MAIL_SETTLE_SECONDS = 3.0
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@dataclass
class Outcome:
    scenario: Scenario
    passed: bool = False
    skipped: str = ""
    turn: int | None = None
    turn_label: str = ""
    reasons: list[str] = field(default_factory=list)
    got: list[str] = field(default_factory=list)


def fill(value: Any, context: dict[str, str]) -> Any:
    """Scenario placeholders (``{email}``, ``{sender}``...) in strings, lists and mappings;
    anything else in braces (a regex quantifier) is left alone."""
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda m: context.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [fill(item, context) for item in value]
    if isinstance(value, dict):
        return {key: fill(item, context) for key, item in value.items()}
    return value


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def fill_expect(expect: Expect, context: dict[str, str]) -> Expect:
    names = expect.__dataclass_fields__
    return Expect(**{name: fill(getattr(expect, name), context) for name in names})


class ScenarioRun:
    """One conversation: its sender, its placeholders, what the assistant said so far."""

    def __init__(self, scenario: Scenario, live: Live, catalog: ResponseCatalog) -> None:
        self.scenario = scenario
        self.live = live
        self.catalog = catalog
        slug = re.sub(r"[^a-z0-9]+", "-", scenario.name.lower())[:24].strip("-")
        tag = uuid.uuid4().hex[:8]
        self.sender = f"bench-{slug}-{tag}"
        # Addresses a tenant could have: the scenario's name in them would be words the NLU
        # reads ("...-identifier-change-...@" was taken for a request to change it).
        self.context = {
            "sender": self.sender,
            "email": f"locataire.{tag}@example.org",
            "new_email": f"nouvelle.adresse.{tag}@example.org",
            "next_year": str(date.today().year + 1),
        }
        self.history: list[dict[str, Any]] = []
        self.mail_known: dict[str, int] = {}

    async def run(self) -> Outcome:
        outcome = Outcome(self.scenario)
        try:
            if self.scenario.household is not None:
                self.context.update(await self.live.create_household(self.scenario.household))
            await self.snapshot_mailboxes()
        except LiveError as error:
            outcome.skipped = str(error)
            return outcome
        for index, turn in enumerate(self.scenario.turns, start=1):
            replies: list[dict[str, Any]] = []
            try:
                replies, reasons = await self.play(turn)
            except (LiveError, httpx.HTTPError) as error:
                reasons = [f"{type(error).__name__}: {error}"]
            if reasons:
                outcome.turn, outcome.turn_label = index, fill(turn.label, self.context)
                outcome.reasons, outcome.got = reasons, describe(replies, self.catalog)
                return outcome
        outcome.passed = True
        return outcome

    async def snapshot_mailboxes(self) -> None:
        """How many e-mails each address a ``mail`` check names already had: only new ones count."""
        for turn in self.scenario.turns:
            if turn.mail:
                to = fill(turn.mail["to"], self.context)
                self.mail_known[to] = len(await self.live.mailbox(to))

    async def play(self, turn: Turn) -> tuple[list[dict[str, Any]], list[str]]:
        expect = fill_expect(turn.expect, self.context)
        unknown = unknown_names(expect, self.catalog)
        if unknown:
            return [], [f"no such response in the project: {sorted(unknown)}"]
        quiet = {to: len(await self.live.mailbox(to)) for to in fill(turn.no_mail, self.context)}
        replies, reasons = await self.act(turn)
        self.history.extend(replies)
        reasons += check(expect, replies, self.catalog)
        try:
            if turn.mail:
                reasons += await self.check_mail(fill(turn.mail, self.context))
            if turn.link:
                reasons += await self.check_link(fill(turn.link, self.context), replies)
            if quiet:
                reasons += await self.check_quiet(quiet)
        except (LiveError, httpx.HTTPError) as error:
            # the replies stay in the report: they usually say why nothing arrived
            reasons.append(f"{type(error).__name__}: {error}")
        return replies, reasons

    async def act(self, turn: Turn) -> tuple[list[dict[str, Any]], list[str]]:
        value = fill(turn.value, self.context)
        if turn.action == "user":
            return await self.live.say(self.sender, str(value)), []
        if turn.action == "button":
            offered = {
                b.get("title"): b.get("payload")
                for reply in self.history[-6:]
                for b in reply.get("buttons") or []
            }
            if value not in offered:
                return [], [f"no button {value!r} offered (offered: {sorted(offered)})"]
            return await self.live.say(self.sender, offered[value]), []
        if turn.action == "verify":
            first, replies = await self.live.verify(self.sender, str(value))
            reasons = []
            if turn.on_email:
                found = check(fill_expect(turn.on_email, self.context), first, self.catalog)
                reasons = [f"after the e-mail address: {reason}" for reason in found]
            return replies, reasons
        if turn.action == "upload":
            await self.live.upload(self.newest_link(UPLOAD_LINK), str(value))
            return [], []
        if turn.action == "pay":
            page = await self.live.pay(self.newest_link(PAYMENT_LINK), str(value))
            self.context["payment_page"] = page
            return [], []
        raise AssertionError(turn.action)

    def newest_link(self, pattern: re.Pattern[str]) -> str:
        for text in reversed(texts(self.history)):
            found = pattern.findall(text)
            if found:
                return found[-1]
        raise LiveError(f"the assistant gave no link like /{pattern.pattern}/")

    async def check_mail(self, spec: dict[str, Any]) -> list[str]:
        """An e-mail arrived; its text, its link and the page behind that link are right."""
        to = spec["to"]
        email = await self.live.wait_for_mail(
            to, known=self.mail_known.get(to, 0), subject=spec.get("subject", "")
        )
        reasons = [
            f"e-mail {email['subject']!r} lacks {part!r}"
            for part in as_list(spec.get("contains"))
            if part.casefold() not in email["text"].casefold()
        ]
        if spec.get("attachment") and not any(
            name.endswith(spec["attachment"]) for name in email.get("attachments") or []
        ):
            reasons.append(f"e-mail {email['subject']!r} has no {spec['attachment']} attachment")
        if spec.get("link"):
            links = [link for link in email["links"] if re.search(spec["link"], link)]
            if not links:
                return [*reasons, f"e-mail {email['subject']!r} has no link /{spec['link']}/"]
            reasons += await self.check_page(links[0], spec)
        return reasons

    async def check_link(self, spec: dict[str, Any], replies: list[dict[str, Any]]) -> list[str]:
        """A link the assistant gave in this turn opens (the page a tenant would see)."""
        found = [m for text in texts(replies) for m in re.findall(r"https?://\S+", text)]
        links = [link for link in found if re.search(spec.get("pattern", ""), link)]
        if not links:
            return [f"no link /{spec.get('pattern', '')}/ in the replies"]
        return await self.check_page(links[0].rstrip(".,)"), spec)

    async def check_page(self, link: str, spec: dict[str, Any]) -> list[str]:
        page = await self.live.open_page(link)
        reasons = []
        if page.status_code != int(spec.get("status", 200)):
            reasons.append(f"{link} answered {page.status_code}")
        reasons += [
            f"the page behind the link lacks {part!r}"
            for part in as_list(spec.get("page_contains"))
            if part.casefold() not in page.text.casefold()
        ]
        return reasons

    async def check_quiet(self, known: dict[str, int]) -> list[str]:
        """Nothing sent: no new e-mail to these addresses a few seconds after the turn."""
        await asyncio.sleep(MAIL_SETTLE_SECONDS)
        reasons = []
        for to, count in known.items():
            now = await self.live.mailbox(to)
            if len(now) > count:
                reasons.append(f"an e-mail was sent to {to}: {now[0]['subject']!r}")
        return reasons


async def run_all(
    scenarios: list[Scenario],
    live: Live,
    catalog: ResponseCatalog,
    *,
    parallel: int = 3,
    progress: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Every scenario, ``parallel`` at a time, in their order; ``progress`` hears of each end."""
    gate = asyncio.Semaphore(parallel)

    async def one(scenario: Scenario) -> Outcome:
        async with gate:
            outcome = await ScenarioRun(scenario, live, catalog).run()
        if progress is not None:
            progress(outcome)
        return outcome

    return list(await asyncio.gather(*(one(scenario) for scenario in scenarios)))
