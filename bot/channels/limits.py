"""The size of a message every channel hands to NLU, and what it says instead of a longer one.

NLU's cost grows faster than the length of what it reads: a 100 000-character message made
the Rasa process grow past 20 GB until the kernel killed it. So every channel measures the
text before Rasa sees it; a longer one is answered by the channel itself (``messages_fr.yml``,
section ``any``) and the conversation stays as it was: a question the assistant was waiting
an answer to is still waiting.
"""

from __future__ import annotations

from bot.channels.wording import channel_wording
from bot.settings import Settings


def message_limit(settings: Settings | None = None) -> int:
    """The longest message, in characters (``MESSAGE_MAX_CHARS``)."""
    return (settings or Settings.from_env()).message_max_chars


def too_long(text: str | None, limit: int) -> bool:
    """Whether ``text`` is over the limit (missing text is not)."""
    return text is not None and len(text) > limit


def too_long_reply(limit: int) -> str:
    """The channel's French answer to a message over ``limit`` characters."""
    french_number = f"{limit:,}".replace(",", "\u202f")
    return channel_wording("any")["too_long"].format(max_chars=french_number)
