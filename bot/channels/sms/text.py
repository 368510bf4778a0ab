"""Pure text functions of the SMS channel: long replies in parts, numbered choices, keywords.

Part size: at most ``SMS_PART_LIMIT`` = 600 characters per message sent. Twilio accepts a body
of up to 1,600 characters and the phone shows a concatenated message as one, but each part is
billed per segment (153 GSM-7 characters, or 67 as soon as a character such as "ê" or "ç"
forces UCS-2) and carriers deliver very long concatenations less reliably. 600 characters is
4 GSM-7 or 9 UCS-2 segments: most replies go in one message, a long explanation in a few.

Where a reply is cut, in order of preference: between paragraphs (blank line), between
lines, after a sentence (".", "!", "?", "…" then a space), between words. A word is cut only
when it alone is longer than a part, and a web address never is: a part holding an address
longer than the limit exceeds it (Twilio's 1,600 characters remain the hard bound). Parts of
a split reply are numbered "(1/3) " because separate messages may reach the phone out of
order.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from bot.channels.sms.wording import SmsWording

SMS_PART_LIMIT = 600
#: A part must leave room for its number and some text.
MIN_PART_LIMIT = 40

#: Alone in a message (any case, accents or not), these stop every message to the number.
OPT_OUT_KEYWORDS = frozenset({"stop", "arret", "stopall", "unsubscribe"})
#: Alone in a message from an opted-out number, these allow messages again.
OPT_IN_KEYWORDS = frozenset({"start", "demarrer", "unstop"})

#: Places to cut a long reply, strongest first.
_BOUNDARIES = (
    re.compile(r"\n[ \t]*\n\s*"),  # paragraphs
    re.compile(r"\n\s*"),  # lines (numbered choices, lists)
    re.compile(r"(?<=[.!?…])\s+"),  # sentences
    re.compile(r"\s+"),  # words
)
_WORD = re.compile(r"\S+")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_CHOICE = re.compile(r"\s*(\d{1,2})\s*[.)]?\s*")


def split_message(text: str, limit: int = SMS_PART_LIMIT) -> list[str]:
    """``text`` in parts of at most ``limit`` characters, numbered "(i/n) " when more than one."""
    if limit < MIN_PART_LIMIT:
        raise ValueError(f"an SMS part needs at least {MIN_PART_LIMIT} characters")
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    reserve = len("(9/9) ")
    while True:
        parts = _cut(text, limit - reserve)
        label = len(f"({len(parts)}/{len(parts)}) ")
        if label <= reserve:
            return [f"({i}/{len(parts)}) {part}" for i, part in enumerate(parts, 1)]
        reserve = label


def _cut(text: str, limit: int) -> list[str]:
    parts = []
    while text:
        part, text = _next_part(text, limit)
        parts.append(part)
    return parts


def _next_part(text: str, limit: int) -> tuple[str, str]:
    """The first part of ``text`` (at most ``limit`` characters but for a long URL), the rest."""
    if len(text) <= limit:
        return text, ""
    for boundary in _BOUNDARIES:
        cut = None
        for match in boundary.finditer(text, 1):
            if match.start() > limit:
                break
            cut = match
        if cut is not None:
            return text[: cut.start()].rstrip(), text[cut.end() :].lstrip()
    word = _WORD.match(text)
    if word and _URL.search(word.group()):
        return word.group(), text[word.end() :].lstrip()
    return text[:limit], text[limit:].lstrip()


def render_choices(text: str, titles: Sequence[str], wording: SmsWording) -> str:
    """``text`` followed by the numbered choices and the prompt to answer with a number."""
    lines = "\n".join(
        wording.choice_line.format(number=number, title=title)
        for number, title in enumerate(titles, 1)
    )
    numbers = [str(number) for number in range(1, len(titles) + 1)]
    listed = wording.choice_separator.join(numbers[:-1])
    listed = f"{listed}{wording.choice_last_separator}{numbers[-1]}" if listed else numbers[-1]
    prompt = wording.choice_prompt.format(numbers=listed)
    return "\n\n".join(block for block in (text.strip(), lines, prompt) if block)


def choice_number(text: str) -> int | None:
    """The number a tenant answered ("2", " 2 ", "2."), or ``None`` for any other text."""
    match = _CHOICE.fullmatch(text)
    return int(match.group(1)) if match else None


def keyword(text: str) -> str:
    """``text`` as a keyword: trimmed, lower case, accents and final "." or "!" dropped."""
    folded = unicodedata.normalize("NFKD", text.strip().rstrip(".!").strip().casefold())
    return "".join(char for char in folded if not unicodedata.combining(char))
