"""The SMS channel's own wording: section ``sms`` of ``bot/channels/messages_fr.yml``."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from rasa.shared.exceptions import RasaException

from bot.channels.wording import MESSAGES_FILE, channel_wording


@dataclass(frozen=True)
class SmsWording:
    """The channel's own wording (``bot/channels/messages_fr.yml``, section ``sms``)."""

    choice_line: str
    choice_prompt: str
    choice_separator: str
    choice_last_separator: str
    opted_out: str
    opted_in: str
    media_not_supported: str


@functools.cache
def load_wording(path: Path = MESSAGES_FILE) -> SmsWording:
    """The ``sms`` section of the channels' wording file, read once; checked whole at start-up."""
    try:
        return SmsWording(**channel_wording("sms", path))
    except TypeError as error:
        raise RasaException(f"{path}: the 'sms' section does not fit SmsWording: {error}") from None
