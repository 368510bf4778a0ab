"""Which conversation an action acts for, as the channel that carried it authenticated it.

Every channel gives its senders ids that carry its name (``telegram:42``, ``sms:+33612345678``,
``socketio:<server-issued id>``, ``rest:<test id>``), and Rasa records in each user event the
channel the message came in on. An action speaks to the portal for ``<channel>:<id>`` only when
both agree: a message that reached a conversation by another way (or a tracker without a channel)
acts for no conversation at all, so it can never use another conversation's verification.
"""

from __future__ import annotations

from rasa_sdk import Tracker

#: The channels whose sender ids the portal may see (the names ``InputChannel.name()`` gives).
CHANNELS = frozenset({"rest", "socketio", "telegram", "sms"})


def channel_of(sender_id: str) -> str:
    """The channel named at the start of a sender id ("" when it names none)."""
    prefix, separator, rest = sender_id.partition(":")
    return prefix if separator and rest and prefix in CHANNELS else ""


def conversation_of(tracker: Tracker) -> str:
    """``tracker.sender_id`` when its channel is the one the tenant last wrote on, else "".

    A brand-new conversation has no message yet when ``action_session_start`` runs (the
    logged-in page's session token is exchanged then): its id alone names the channel, which
    only that channel can give its senders.
    """
    sender_id = tracker.sender_id or ""
    channel = channel_of(sender_id)
    latest = tracker.get_latest_input_channel()
    return sender_id if channel and latest in (None, channel) else ""
