"""Which response a reply came from: every text the assistant can say, by response name.

The bench asserts on response names, not on wording, so that a scenario survives a rephrasing
and still fails when the assistant says something else. Every variation counts, the conditional
English ones included (``condition: [{type: slot, name: language, value: en}]``); ``{placeholder}``
matches any text. Sources: the responses of ``domain.yml`` (a file or a folder), the
``responses:`` of ``data/`` files (retrieval intents may keep theirs there), and what the
channels say themselves whatever the channel (``any:`` of ``bot/channels/messages_fr.yml``, as
``channel/<key>``): the REST channel sends no other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_LANGUAGE = "fr"
LANGUAGE_SLOT = "language"
CHANNEL_WORDING = Path("bot/channels/messages_fr.yml")
PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
# French typography puts narrow and non-breaking spaces in amounts ("412,50 €").
SPACES = re.compile(r"[\u00a0\u202f\u2009]")


def plain(text: str) -> str:
    """A reply as compared: non-breaking spaces as spaces, surrounding blanks removed."""
    return SPACES.sub(" ", text).strip()


@dataclass(frozen=True)
class Variation:
    """One text a response can say, in one language."""

    name: str
    text: str
    language: str
    pattern: re.Pattern[str]

    def matches(self, reply: str) -> bool:
        return self.pattern.fullmatch(plain(reply)) is not None


def template_pattern(text: str) -> re.Pattern[str]:
    """A response text as a regex: its literal text; each ``{placeholder}`` any text at all."""
    parts = PLACEHOLDER.split(plain(text))
    return re.compile("(.*?)".join(re.escape(part) for part in parts), re.DOTALL)


def variation_language(variation: Mapping[str, Any]) -> str:
    """The language a variation is said in: its condition on the language slot, else French."""
    for condition in variation.get("condition") or []:
        if isinstance(condition, Mapping) and condition.get("name") == LANGUAGE_SLOT:
            return str(condition.get("value") or DEFAULT_LANGUAGE)
    return DEFAULT_LANGUAGE


def canonical_name(name: str) -> str:
    """``faq/<key>`` is short for ``utter_faq/<key>`` in scenarios."""
    return f"utter_{name}" if name.startswith("faq/") else name


class ResponseCatalog:
    """Maps a reply text back to the response(s) and language(s) it can come from."""

    def __init__(self, variations: Iterable[Variation]) -> None:
        self.variations = list(variations)
        self.names = {variation.name for variation in self.variations}

    @classmethod
    def from_responses(
        cls, responses: Mapping[str, Iterable[Mapping[str, Any]]]
    ) -> ResponseCatalog:
        """From a ``responses:`` mapping as written in a domain (name -> list of variations)."""
        return cls(
            Variation(name, str(v["text"]), variation_language(v), template_pattern(str(v["text"])))
            for name, variations in responses.items()
            for v in variations or []
            if isinstance(v, Mapping) and v.get("text")
        )

    @classmethod
    def from_project(cls, root: Path) -> ResponseCatalog:
        """Every response of the project at ``root`` (domain, data, channel wording)."""
        return cls.from_responses(project_responses(root))

    def identify(self, reply: str) -> list[Variation]:
        """The variations whose text ``reply`` is (several when texts coincide)."""
        return [variation for variation in self.variations if variation.matches(reply)]

    def names_of(self, reply: str) -> set[str]:
        return {variation.name for variation in self.identify(reply)}

    def languages_of(self, reply: str) -> set[str]:
        return {variation.language for variation in self.identify(reply)}


def project_responses(root: Path) -> dict[str, list[Mapping[str, Any]]]:
    """Responses by name from domain.yml (or a domain/ folder), data/ and the channel wording."""
    responses: dict[str, list[Mapping[str, Any]]] = {}
    domain = root / "domain.yml"
    sources = [domain] if domain.is_file() else sorted((root / "domain").rglob("*.yml"))
    sources += sorted((root / "data").rglob("*.yml"))
    for path in sources:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, variations in (loaded.get("responses") or {}).items():
            responses.setdefault(name, []).extend(variations or [])
    wording = root / CHANNEL_WORDING
    if wording.is_file():
        loaded = yaml.safe_load(wording.read_text(encoding="utf-8")) or {}
        for key, text in (loaded.get("any") or {}).items():
            responses[f"channel/{key}"] = [{"text": text}]
    return responses
