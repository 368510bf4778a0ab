"""Response texts an action needs as values (button titles it builds), in the tenant's language.

Responses an action sends go through Rasa's NLG, which picks the variation for the ``language``
slot itself; a title put on a button must be picked here the same way.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.types import DomainDict


def _condition_holds(variant: dict[str, Any], tracker: Tracker) -> bool:
    return all(
        condition.get("type") == "slot"
        and tracker.get_slot(condition.get("name")) == condition.get("value")
        for condition in variant.get("condition") or []
    )


def response_text(name: str, domain: DomainDict, tracker: Tracker, **values: Any) -> str:
    """The text of response ``name``: a variation whose conditions hold, else the default one;
    ``{placeholders}`` filled from ``values``."""
    variants = (domain.get("responses") or {}).get(name) or [{"text": name}]
    conditional = [v for v in variants if v.get("condition") and _condition_holds(v, tracker)]
    defaults = [v for v in variants if not v.get("condition")]
    text = str((conditional or defaults or variants)[0].get("text", name))
    return text.format(**values) if values else text
