"""``action_session_start`` with a widget token the portal refuses (already redeemed by another
conversation, forged, expired): the session starts unverified, and nothing of the account is
asked for or said."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.verification import ActionSessionStart
from tests.actions.helpers import domain, tracker
from tests.actions.test_verification import FakePortal, said


@pytest.mark.parametrize(
    "error", ["session_token_used", "session_token_invalid", "session_token_expired"]
)
async def test_a_refused_token_starts_an_unverified_session(error: str) -> None:
    portal = FakePortal({("POST", "/verifications/session-token"): (410, {"error": error})})
    dispatcher = CollectingDispatcher()

    events = await ActionSessionStart(portal.client()).run(
        dispatcher,
        tracker(slots={"session_started_metadata": {"session_token": "used-token"}}),
        domain(),
    )

    assert [e["event"] for e in events] == ["session_started", "action"]
    assert portal.calls == [("POST", "/verifications/session-token")]
    assert said(dispatcher) == []
