"""Which language a tenant's message is written in, French or English, when it says so.

Most tenant messages are short, and many carry no language at all: a client number, an
e-mail address, a surname, "ok". Only a confident verdict may change the language the
assistant answers in, so ``detect`` returns ``None`` rather than a guess:

- button payloads ("/pay_rent") say nothing; e-mail addresses, links and tokens holding digits
  are removed first;
- a message made only of known short-reply words (``short_replies.yml``) takes their language;
- otherwise lingua decides between French and English, and only for two words or more, with a
  confidence that must be higher the shorter the text (one word is as often a surname).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from lingua import Language, LanguageDetector, LanguageDetectorBuilder

FRENCH = "fr"
ENGLISH = "en"
_CODES = {Language.FRENCH: FRENCH, Language.ENGLISH: ENGLISH}
SHORT_REPLIES_FILE = Path(__file__).with_name("short_replies.yml")

_NOT_WORDS = re.compile(r"\S+@\S+|https?://\S+|www\.\S+|\S*\d\S*")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")


@dataclass(frozen=True)
class Thresholds:
    """Least lingua confidence accepted, by number of words (after numbers and e-mails)."""

    two_words: float = 0.9
    three_or_four_words: float = 0.7
    five_words_or_more: float = 0.65

    def for_words(self, count: int) -> float | None:
        if count < 2:
            return None
        if count == 2:
            return self.two_words
        if count <= 4:
            return self.three_or_four_words
        return self.five_words_or_more


@dataclass(frozen=True)
class ShortReplies:
    """Words that show their language alone (see short_replies.yml)."""

    language_of: dict[str, str]
    neutral: frozenset[str]

    @classmethod
    def load(cls, path: Path = SHORT_REPLIES_FILE) -> ShortReplies:
        table = yaml.safe_load(path.read_text(encoding="utf-8"))
        language_of = {_normalise(word): code for code in (FRENCH, ENGLISH) for word in table[code]}
        return cls(language_of, frozenset(_normalise(word) for word in table["neutral"]))

    def language(self, words: list[str]) -> str | None:
        """The one language named by a message made only of known words, else None."""
        if not all(word in self.language_of or word in self.neutral for word in words):
            return None
        named = {self.language_of[word] for word in words if word in self.language_of}
        return named.pop() if len(named) == 1 else None


def _normalise(word: str) -> str:
    return unicodedata.normalize("NFC", word.lower().replace("\u2019", "'"))


def words_of(text: str) -> list[str]:
    """The words of a message, lower-cased, without e-mails, links, numbers or codes."""
    cleaned = _NOT_WORDS.sub(" ", text.replace("\u2019", "'"))
    return [_normalise(word) for word in _WORD.findall(cleaned)]


@lru_cache(maxsize=1)
def french_english_detector() -> LanguageDetector:
    """Lingua restricted to French and English; its models ship in the wheel."""
    return (
        LanguageDetectorBuilder.from_languages(Language.FRENCH, Language.ENGLISH)
        .with_preloaded_language_models()
        .build()
    )


def detect(
    text: str,
    *,
    detector: LanguageDetector,
    short_replies: ShortReplies,
    thresholds: Thresholds = Thresholds(),
) -> str | None:
    """``"fr"`` or ``"en"`` when the message clearly is in that language, else None."""
    if text.lstrip().startswith("/"):
        return None  # a button's payload ("/setup_direct_debit"): the button said nothing
    words = words_of(text)
    if not words:
        return None
    known = short_replies.language(words)
    if known:
        return known
    least = thresholds.for_words(len(words))
    if least is None:
        return None
    best = detector.compute_language_confidence_values(" ".join(words))[0]
    return _CODES.get(best.language) if best.value >= least else None
