"""A response's default wording, for the places that speak without a conversation's slots.

nginx (when no Rasa server answers) and a turn that failed before the tracker could be read
still owe the tenant a sentence, and every sentence lives in ``domain.yml``: they take the
response's first variant without a condition, the French one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from bot.settings import PROJECT_ROOT

DOMAIN = PROJECT_ROOT / "domain.yml"
#: What a tenant reads when a part of the assistant is out of reach, in every such place.
UNAVAILABLE_RESPONSE = "utter_service_unavailable"


def default_text(responses: Mapping[str, Sequence[Mapping[str, Any]]], name: str) -> str:
    """The text of ``name``'s first variant without a condition.

    Raises:
        KeyError: the domain has no such response, or none of its variants is unconditional.
    """
    for variant in responses[name]:
        if not variant.get("condition") and variant.get("text"):
            return str(variant["text"])
    raise KeyError(f"{name} has no unconditional text variant")


def domain_default_text(name: str, domain: Path = DOMAIN) -> str:
    """``default_text`` read from the domain file (no Rasa import: nginx's renderer uses it)."""
    loaded = yaml.safe_load(domain.read_text(encoding="utf-8"))
    return default_text(loaded.get("responses") or {}, name)


def rest_reply_json(text: str) -> str:
    """``text`` as the REST channel's reply body, a list of one message, ASCII only and without
    a single quote, so that it fits in a single-quoted nginx string as it is."""
    return json.dumps([{"text": text}], ensure_ascii=True).replace("'", "\\u0027")
