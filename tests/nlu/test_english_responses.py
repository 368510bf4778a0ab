"""Every response speaks French by default and English to a tenant who writes English, with
the same placeholders and the same button payloads (a button must do the same in both)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

ROOT = Path(__file__).resolve().parents[2]
ENGLISH = [{"type": "slot", "name": "language", "value": "en"}]
RESPONSES: dict[str, list[dict]] = yaml.safe_load(
    (ROOT / "domain.yml").read_text(encoding="utf-8")
)["responses"]


def placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"\{(\w+)\}", text))


def payloads(variant: dict) -> list[str]:
    return [button["payload"] for button in variant.get("buttons", [])]


def french_and_english(name: str) -> tuple[dict, dict]:
    defaults = [v for v in RESPONSES[name] if not v.get("condition")]
    english = [v for v in RESPONSES[name] if v.get("condition") == ENGLISH]
    assert len(defaults) == 1 and len(english) == 1, name
    return defaults[0], english[0]


@pytest.mark.parametrize("name", sorted(RESPONSES))
def test_every_response_has_a_french_default_and_a_matching_english_variation(name: str) -> None:
    french, english = french_and_english(name)
    assert english["text"] and english["text"] != french["text"]
    assert placeholders(english["text"]) == placeholders(french["text"])
    assert payloads(english) == payloads(french)
    english_titles = [button["title"] for button in english.get("buttons", [])]
    assert english_titles != [button["title"] for button in french.get("buttons", [])] or (
        not english_titles
    )


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(ROOT / "domain.yml")


async def say(domain: Domain, name: str, *slot_events: SlotSet) -> dict:
    tracker = DialogueStateTracker.from_events("tenant", list(slot_events), slots=domain.slots)
    generator = TemplatedNaturalLanguageGenerator(domain.responses)
    return await generator.generate(name, tracker, "rest", email="a@example.org")


async def test_the_reply_follows_the_language_slot(domain: Domain) -> None:
    french = await say(domain, "utter_password_reset_sent")
    english = await say(domain, "utter_password_reset_sent", SlotSet("language", "en"))
    back = await say(
        domain, "utter_password_reset_sent", SlotSet("language", "en"), SlotSet("language", "fr")
    )
    assert french["text"].startswith("Si un compte existe avec l'adresse a@example.org")
    assert english["text"].startswith("If an account exists with the address a@example.org")
    assert back["text"] == french["text"]


async def test_english_buttons_keep_their_payloads(domain: Domain) -> None:
    english = await say(domain, "utter_faq/card_payment", SlotSet("language", "en"))
    assert english["buttons"] == [{"title": "Do it now", "payload": "/pay_rent"}]
