"""Every topic the overview and the transcripts can show has a French label: an intent of
``domain.yml`` without one would appear to staff as its code (``faq``, ``complaint``)."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.staff.overview.topics import NOT_TOPICS
from bot.staff.templating import staff_templates

DOMAIN = Path(__file__).resolve().parents[2] / "domain.yml"


def domain_intents() -> set[str]:
    intents = yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))["intents"]
    return {intent if isinstance(intent, str) else next(iter(intent)) for intent in intents}


def test_every_topic_intent_has_a_french_label() -> None:
    labels = staff_templates.environment.get_template("staff/conversations_labels.html").module

    unlabelled = domain_intents() - NOT_TOPICS - set(labels.TOPICS)

    assert not unlabelled, f"add a label to TOPICS in conversations_labels.html: {unlabelled}"
    assert labels.TOPICS["faq"] == "Question de la page d'aide"
