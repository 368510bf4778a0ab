"""``MaskingSQLTrackerStore``: Rasa's SQL tracker store, writing redacted copies of events.

It extends ``bot.dialogue.sql_tracker_store.PooledSQLTrackerStore`` (Rasa's store with kept
SQLite connections and queries compiled once), which changes no row and no tracker.

Rasa Open Source 3.6 stores every event as JSON in ``events.data``, raw (anonymisation is a
Rasa Pro feature). ``endpoints.yml`` names this class instead::

    tracker_store:
      type: bot.privacy.tracker_store.MaskingSQLTrackerStore
      dialect: ...                 # same keys as Rasa's ``type: SQL``
      sensitive_slots: [iban, card_number, verification_code, session_token]   # optional

The hook: ``SQLTrackerStore.save()`` asks ``_additional_events()`` for the events that are
not stored yet and writes ``event.type_name`` and ``json.dumps(event.as_dict())`` of each.
This class overrides ``_additional_events()`` to hand ``save()`` one stand-in per event whose
``as_dict()`` is ``redact_event(event.as_dict())``. The live tracker and its events are never
touched: the rest of the turn (a form reading the IBAN it has just validated, the action
server receiving the tracker) sees the real values. One row per event is kept, which
``_additional_events()`` relies on (it counts stored rows to find the new events).
Events published to an event broker are redacted the same way (``_stream_new_events``).
A SQLite tracker file is made readable by its owner only (``bot.privacy.files``).

**Consequence for the dialogue.** Rasa reloads the tracker from this store (``retrieve()``)
at the start of every message. From the next turn on, a sensitive slot holds its marker
(``[IBAN masqué]``), not the value, and the tenant's earlier messages read as redacted text.
A flow must therefore send a sensitive value to the portal in the *same turn* it is typed
(in the slot's validation, or in an action run in that turn) and then clear or replace the
slot; never collect an IBAN in one turn and submit it in a later one.

**Logs.** Rasa's server process runs none of our code but this class, so its constructor
calls ``install_log_redaction()``: from the moment Rasa loads its endpoints (before the first
message), every log record of that process is redacted too.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.dialogue.sql_tracker_store import PooledSQLTrackerStore
from bot.privacy.files import private_sqlite_url
from bot.privacy.logging import install_log_redaction
from bot.privacy.redaction import DEFAULT_SENSITIVE_SLOTS, redact_event

if TYPE_CHECKING:
    from rasa.core.brokers.broker import EventBroker
    from rasa.shared.core.events import Event
    from rasa.shared.core.trackers import DialogueStateTracker
    from sqlalchemy.orm import Session


@dataclass(frozen=True)
class RedactedEvent:
    """What ``SQLTrackerStore.save()`` reads from an event, with the data already redacted."""

    type_name: str
    data: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return self.data


class MaskingSQLTrackerStore(PooledSQLTrackerStore):
    """An ``SQLTrackerStore`` that never writes IBANs, card numbers, codes or tokens."""

    def __init__(
        self, *args: Any, sensitive_slots: Collection[str] | None = None, **kwargs: Any
    ) -> None:
        """Same arguments as ``SQLTrackerStore``, plus the slots whose value is always masked.

        Args:
            sensitive_slots: slot (and entity) names masked whole; defaults to
                ``DEFAULT_SENSITIVE_SLOTS``.
        """
        install_log_redaction()
        self.sensitive_slots = frozenset(
            DEFAULT_SENSITIVE_SLOTS if sensitive_slots is None else sensitive_slots
        )
        super().__init__(*args, **kwargs)
        # Rasa has just created the SQLite file (if that is the dialect) with the umask's mode.
        private_sqlite_url(self.engine.url)

    def redact(self, event: Event) -> RedactedEvent:
        return RedactedEvent(event.type_name, redact_event(event.as_dict(), self.sensitive_slots))

    def _additional_events(
        self, session: Session, tracker: DialogueStateTracker
    ) -> Iterator[RedactedEvent]:
        """The events ``save()`` will write, as redacted copies (one per event, in order)."""
        for event in super()._additional_events(session, tracker):
            yield self.redact(event)

    async def _stream_new_events(
        self, event_broker: EventBroker, new_events: list[Event], sender_id: str
    ) -> None:
        """Publish to the event broker what is stored: redacted events."""
        for event in new_events:
            event_broker.publish({"sender_id": sender_id, **self.redact(event).data})
