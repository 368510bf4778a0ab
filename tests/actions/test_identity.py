"""An action acts for a conversation only as the channel that carried the message named it."""

from __future__ import annotations

import pytest
from rasa_sdk import Tracker

from actions.identity import channel_of, conversation_of
from tests.actions.helpers import tracker


@pytest.mark.parametrize(
    ("sender_id", "channel", "expected"),
    [
        ("telegram:42", "telegram", "telegram:42"),
        ("sms:+33612345678", "sms", "sms:+33612345678"),
        ("socketio:0f3a", "socketio", "socketio:0f3a"),
        ("rest:moi", "rest", "rest:moi"),
        # A message that came in on one channel never acts for another channel's conversation.
        ("telegram:42", "rest", ""),
        ("socketio:0f3a", "rest", ""),
        # Ids without a channel (older trackers, Rasa's API) act for no conversation.
        ("42", "telegram", ""),
        ("telegram:", "telegram", ""),
        ("other:42", "other", ""),
    ],
)
def test_the_conversation_is_the_sender_only_when_its_channel_carried_the_message(
    sender_id: str, channel: str, expected: str
) -> None:
    assert conversation_of(tracker(sender_id=sender_id, channel=channel)) == expected


def test_at_the_start_of_a_new_conversation_its_id_names_the_channel() -> None:
    starting = Tracker("socketio:0f3a", {}, {}, [], False, None, {}, "action_session_start")
    assert conversation_of(starting) == "socketio:0f3a"
    assert conversation_of(Tracker("0f3a", {}, {}, [], False, None, {}, "")) == ""


def test_channel_of_reads_the_prefix() -> None:
    assert channel_of("sms:+331") == "sms"
    assert channel_of("nothing") == ""
