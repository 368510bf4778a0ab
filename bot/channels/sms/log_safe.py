"""Phone numbers and Twilio SIDs as the SMS channel's logs show them.

Logs name messages by MessageSid and numbers masked, never a body (see ``bot.privacy``).
"""

from __future__ import annotations


def mask_phone(number: str) -> str:
    """A phone number as logs show it: country prefix and last two digits ("+33*******78")."""
    if len(number) < 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 5) + number[-2:]


def loggable_sid(sid: str) -> str:
    """A Twilio SID as logs show it: cut in two, or the log redaction masks it as a token.

    Log redaction (``bot.privacy.logging``) hides every run of 24+ random-looking characters;
    a SID identifies a message in Twilio's console, it unlocks nothing.
    """
    half = len(sid) // 2 + 1
    return f"{sid[:half]}:{sid[half:]}" if len(sid) >= 24 else sid
