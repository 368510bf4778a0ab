"""What a run of tracker events says about one conversation, and how it adds to its summary.

Pure functions, no database: ``index.py`` reads the events and writes the summaries. A
conversation's activity, tenant messages, topics (intents), fallback, handoff, channel, flows
started and completed (``flows.py``), and its tenant text folded for the search.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.portal.models import ConversationSummary, ReviewStatus, utcnow
from bot.staff.transcripts.flows import FLOW_BY_FORM, FLOW_BY_RESPONSE
from bot.staff.transcripts.tracker import TrackerEvent

FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTIONS = frozenset({"action_default_fallback", "action_suggest_topics"})
HANDOFF_ACTION = "action_handoff"
#: Characters of folded tenant text kept per conversation for the search.
SEARCH_TEXT_MAX = 20_000


def fold(text: str) -> str:
    """Lower case, without accents, single spaces: how the search compares texts."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.casefold().split())


@dataclass
class Digest:
    """What a run of events says about one conversation."""

    first_event_id: int
    last_event_id: int
    first_at: float | None = None
    last_at: float | None = None
    events: int = 0
    turns: int = 0
    intents: set[str] = field(default_factory=set)
    channel: str | None = None
    fallback: bool = False
    handoff: bool = False
    texts: list[str] = field(default_factory=list)
    #: Flows (``bot.staff.transcripts.flows``) whose form was activated / that were completed.
    flows_started: set[str] = field(default_factory=set)
    flows_completed: set[str] = field(default_factory=set)

    def add(self, event: TrackerEvent) -> None:
        self.first_event_id = min(self.first_event_id, event.id)
        self.last_event_id = max(self.last_event_id, event.id)
        if event.timestamp is not None:
            self.first_at = min(self.first_at or event.timestamp, event.timestamp)
            self.last_at = max(self.last_at or event.timestamp, event.timestamp)
        self.events += 1
        if event.type_name == "user":
            self._tenant_message(event)
        elif event.type_name == "action" and event.action_name:
            self.fallback |= event.action_name in FALLBACK_ACTIONS
            self.handoff |= event.action_name == HANDOFF_ACTION
        elif event.type_name == "active_loop":
            self._form_activated(event)
        elif event.type_name == "bot":
            self._bot_message(event)

    def _form_activated(self, event: TrackerEvent) -> None:
        # Rasa stores the form's name both in ``data`` and, as for actions, in ``action_name``;
        # a form ending is an ``active_loop`` event without a name.
        form = event.data.get("name") or event.action_name
        if form in FLOW_BY_FORM:
            self.flows_started.add(FLOW_BY_FORM[form])

    def _bot_message(self, event: TrackerEvent) -> None:
        # Responses sent by name from a custom action carry it as ``metadata.utter_action``.
        metadata = event.data.get("metadata")
        response = metadata.get("utter_action") if isinstance(metadata, dict) else None
        if response in FLOW_BY_RESPONSE:
            self.flows_completed.add(FLOW_BY_RESPONSE[response])

    def _tenant_message(self, event: TrackerEvent) -> None:
        self.turns += 1
        if event.intent_name:
            self.intents.add(event.intent_name)
            self.fallback |= event.intent_name == FALLBACK_INTENT
        channel = event.data.get("input_channel")
        if self.channel is None and isinstance(channel, str) and channel:
            self.channel = channel[:64]
        text = event.data.get("text")
        if isinstance(text, str) and text.strip():
            self.texts.append(fold(text))


def digest(events: Iterable[TrackerEvent]) -> dict[str, Digest]:
    """Events grouped by conversation."""
    digests: dict[str, Digest] = {}
    for event in events:
        found = digests.get(event.sender_id)
        if found is None:
            found = digests[event.sender_id] = Digest(event.id, event.id)
        found.add(event)
    return digests


def words(words: Iterable[str]) -> str:
    """``" a b "``: a space at each end, so that ``LIKE '% a %'`` finds a whole word."""
    return " " + " ".join(sorted(set(words))) + " " if words else " "


def merge_into(summary: ConversationSummary, new: Digest) -> None:
    """Add what ``new`` says to the conversation's summary (new, or reset: from scratch)."""
    fresh = not summary.events  # new, or cleared by a reset of the tracker store
    summary.first_event_id = (
        new.first_event_id if fresh else min(summary.first_event_id, new.first_event_id)
    )
    summary.last_event_id = (
        new.last_event_id if fresh else max(summary.last_event_id, new.last_event_id)
    )
    known = [t for t in (None if fresh else summary.first_at, new.first_at) if t is not None]
    summary.first_at = min(known) if known else None
    known = [t for t in (None if fresh else summary.last_at, new.last_at) if t is not None]
    summary.last_at = max(known) if known else None
    summary.events = (0 if fresh else summary.events) + new.events
    summary.turns = (0 if fresh else summary.turns) + new.turns
    summary.intents = words(set((summary.intents or "").split()) | new.intents)
    # NULL (indexed before flows were recorded) counts as none so far.
    summary.flows_started = words(set((summary.flows_started or "").split()) | new.flows_started)
    summary.flows_completed = words(
        set((summary.flows_completed or "").split()) | new.flows_completed
    )
    summary.had_fallback = bool(summary.had_fallback) or new.fallback
    summary.had_handoff = bool(summary.had_handoff) or new.handoff
    summary.channel = summary.channel or new.channel
    if new.texts:
        text = "\n".join(filter(None, [summary.search_text, *new.texts]))
        summary.search_text = text[:SEARCH_TEXT_MAX]
    if new.turns and summary.review_status == ReviewStatus.REVIEWED:
        # The tenant wrote again since the review: to review again (who reviewed it stays).
        summary.review_status = ReviewStatus.PENDING
    summary.indexed_at = utcnow()


#: What the index derives from the events, as before the first one: a summary being digested
#: again from scratch (store reset, old events deleted) starts from here. Staff annotations
#: (review, note, tags) are not derived and stay.
DERIVED_RESET: dict[str, object] = {
    "events": 0,
    "turns": 0,
    "intents": " ",
    "search_text": "",
    "had_fallback": False,
    "had_handoff": False,
    "flows_started": " ",
    "flows_completed": " ",
    "first_event_id": 0,
    "last_event_id": 0,
    "first_at": None,
    "last_at": None,
}
