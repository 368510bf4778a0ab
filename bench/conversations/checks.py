"""What a tenant would notice in the replies to one turn, checked without any I/O.

Expectations name responses (``says``, ``not_says``, ``last_says``...), look at the text
(``contains``, ``not_contains``, ``matches``, ``not_matches``, case-insensitive), the language
(``language: en`` means every reply is an English variation) and the buttons (``buttons``:
payloads offered). Each check returns the failures as sentences, empty when all is well.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Any

from bench.conversations.responses import ResponseCatalog, canonical_name, plain

LIST_KEYS = (
    "says",
    "says_one_of",
    "not_says",
    "last_says",
    "contains",
    "not_contains",
    "matches",
    "not_matches",
    "buttons",
    "not_buttons",
)


@dataclass(frozen=True)
class Expect:
    says: list[str] = field(default_factory=list)
    says_one_of: list[str] = field(default_factory=list)
    not_says: list[str] = field(default_factory=list)
    last_says: list[str] = field(default_factory=list)
    contains: list[str] = field(default_factory=list)
    not_contains: list[str] = field(default_factory=list)
    matches: list[str] = field(default_factory=list)
    not_matches: list[str] = field(default_factory=list)
    buttons: list[str] = field(default_factory=list)
    not_buttons: list[str] = field(default_factory=list)
    language: str | None = None
    silent_ok: bool = False

    @classmethod
    def parse(cls, raw: dict[str, Any], *, silent_ok: bool = False) -> Expect:
        known = {f.name for f in fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise ValueError(f"unknown expectation(s) {sorted(unknown)}")
        values: dict[str, Any] = {"silent_ok": silent_ok}
        for key, value in raw.items():
            if key in LIST_KEYS:
                value = [value] if isinstance(value, str) else list(value)
                if key in ("says", "says_one_of", "not_says", "last_says"):
                    value = [canonical_name(name) for name in value]
            values[key] = value
        return cls(**values)

    def names(self) -> set[str]:
        return {*self.says, *self.says_one_of, *self.not_says, *self.last_says}


def texts(replies: list[dict[str, Any]]) -> list[str]:
    return [reply["text"] for reply in replies if reply.get("text")]


def payloads(replies: list[dict[str, Any]]) -> list[str]:
    return [b.get("payload", "") for reply in replies for b in reply.get("buttons") or []]


def has(text: str, part: str) -> bool:
    return plain(part).casefold() in text


def finds(text: str, pattern: str) -> bool:
    return re.search(pattern, text, re.IGNORECASE) is not None


def check(expect: Expect, replies: list[dict[str, Any]], catalog: ResponseCatalog) -> list[str]:
    """The failures of ``replies`` against ``expect``."""
    said = texts(replies)
    if not said and not replies and not expect.silent_ok:
        return ["no reply at all"]
    names = [catalog.names_of(text) for text in said]
    every = set().union(*names) if names else set()
    joined = plain("\n".join(said)).casefold()
    failures = [f"expected {name}" for name in expect.says if name not in every]
    if expect.says_one_of and not every & set(expect.says_one_of):
        failures.append(f"expected one of {expect.says_one_of}")
    failures += [f"did not expect {name}" for name in expect.not_says if name in every]
    if expect.last_says and not (names and names[-1] & set(expect.last_says)):
        failures.append(f"expected the last reply to be {' or '.join(expect.last_says)}")
    failures += [f"expected the text {s!r}" for s in expect.contains if not has(joined, s)]
    failures += [f"did not expect the text {s!r}" for s in expect.not_contains if has(joined, s)]
    failures += [f"expected a match for /{p}/" for p in expect.matches if not finds(joined, p)]
    failures += [
        f"did not expect a match for /{p}/" for p in expect.not_matches if finds(joined, p)
    ]
    offered = payloads(replies)
    failures += [f"expected a button {p}" for p in expect.buttons if p not in offered]
    failures += [f"did not expect a button {p}" for p in expect.not_buttons if p in offered]
    if expect.language:
        failures += language_failures(expect.language, said, catalog)
    return failures


def language_failures(language: str, said: list[str], catalog: ResponseCatalog) -> list[str]:
    """Every reply must be a variation in ``language`` (a text of no known response fails too)."""
    failures = []
    for text in said:
        languages = catalog.languages_of(text)
        if language not in languages:
            found = "/".join(sorted(languages)) or "no known response"
            failures.append(f"expected {language}, got {found}: {shorten(text)!r}")
    return failures


def unknown_names(expect: Expect, catalog: ResponseCatalog) -> set[str]:
    """Response names a scenario expects that the project does not have (a typo, usually)."""
    return {name for name in expect.names() if name not in catalog.names}


def shorten(text: str, width: int = 110) -> str:
    text = plain(text).replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def describe(replies: list[dict[str, Any]], catalog: ResponseCatalog) -> list[str]:
    """What came back, one line a reply: the response name(s) it matched, then its text."""
    lines = []
    for reply in replies:
        text = reply.get("text") or ""
        names = ",".join(sorted(catalog.names_of(text))) if text else "-"
        buttons = payloads([reply])
        extra = f" [buttons: {' '.join(buttons)}]" if buttons else ""
        lines.append(f"{names or '?'}: {shorten(text)}{extra}")
    return lines or ["(nothing)"]
