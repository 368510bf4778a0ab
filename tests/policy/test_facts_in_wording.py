"""The landlord's facts as the wording states them: each number equals ``bot/policy/landlord.py``.

Rasa's responses cannot read Python constants, so the chat's wording (``domain.yml`` and any
``responses`` under ``data/``), the channels' wording (``bot/channels/messages_fr.yml``, the
widget's ``messages.fr.json``), the error catalogue (``bot/errors_fr.yml``) and the templates
are read here: every "N h", "N chiffres/digits/positions", "N minutes", "N mois/months" and
every list of debit days is classified by its sentence as one of the landlord's facts and must
be that fact's value. A number with such a unit that no fact explains fails too (declare it in
``NOT_LANDLORD_FACTS`` with the reason, or state the fact). Templates must not write the
numbers at all: they read ``{{ landlord.X }}``. Each fact must also be stated by the responses
that answer the help page's sentence stating it, in every language.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.policy import landlord
from bot.templating import TemplateSet

ROOT = Path(__file__).resolve().parents[2]
HELP_PAGE = ROOT / "tests" / "help_page_fr.txt"
CATALOGUES = (
    "bot/channels/messages_fr.yml",
    "bot/channels/webchat/static/messages.fr.json",
    "bot/errors_fr.yml",
)
TEMPLATE_FOLDERS = ("bot/portal/templates", "bot/staff/templates", "bot/web/templates")

#: Numbers with a unit that are not the landlord's facts, by the words around them.
NOT_LANDLORD_FACTS = {
    "Moins de 24 h": "the staff overview's first age bucket, a day (bot/staff/overview)",
    "contesté pendant 13 mois": "the legal period to dispute a SEPA debit",
    "FR suivi de 2 chiffres": "the IBAN's format",
    "FR followed by 2 digits": "the IBAN's format",
    "8h30 ou 8h": "how staff may write an opening time (STAFF_OPENING_HOURS)",
}

#: Where the help page states each fact, the responses that answer that sentence (every
#: language variation of each must state the fact).
STATED_WHERE_THE_HELP_PAGE_STATES_IT = {
    "VALIDATION_DELAY_HOURS": ("utter_faq/insurance_validation_delay", "utter_insurance_howto"),
    "PAYMENT_POSTING_DELAY_HOURS": ("utter_faq/payment_account_update", "utter_pay_rent_howto"),
    "CLIENT_NUMBER_LENGTH": (
        "utter_faq/register_prerequisites",
        "utter_register_intro",
        "utter_faq/forgot_identifier_needs",
        "utter_forgot_identifier_intro",
    ),
    "DEBIT_DAYS": (
        "utter_faq/direct_debit_days",
        "utter_faq/direct_debit_requirements",
        "utter_direct_debit_howto",
    ),
    "DEACTIVATION_MONTHS": ("utter_move_out",),
}

_SPACE = r"[ \u00a0\u202f]"
_HOURS = re.compile(rf"(?<![\d/])(\d+){_SPACE}?(?:h|heures?|hours?)\b(?!{_SPACE}?/)")
_DIGITS = re.compile(rf"(?<![\d/])(\d+)(?:{_SPACE}|-)?(?:chiffres|digits?|positions)\b")
_MINUTES = re.compile(rf"(?<![\d/])(\d+){_SPACE}?minutes?\b")
_MONTHS = re.compile(rf"(?<![\d/])(\d+){_SPACE}?(?:mois|months?)\b")
_DAY_FR = re.compile(r"\ble (\d{1,2})\b(?!\s*(?:h\b|€|%|/))", re.IGNORECASE)
_DAY_EN = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\b")
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n+")


@dataclass(frozen=True)
class Statement:
    """A number the wording states, and the fact its sentence makes it (``""``: none)."""

    source: str
    sentence: str
    fact: str
    stated: int | tuple[int, ...]

    @property
    def expected(self) -> int | tuple[int, ...]:
        return getattr(landlord, self.fact)


def _nearest(text: str, position: int, keywords: dict[str, str]) -> str:
    """The fact of the keyword nearest to ``position`` in ``text``; ``""`` when none."""
    found = [
        (abs(match.start() - position), fact)
        for pattern, fact in keywords.items()
        for match in re.finditer(pattern, text, re.IGNORECASE)
    ]
    return min(found)[1] if found else ""


#: Per unit: the words that make a number one fact or another. A sentence with such words
#: decides (the first fact whose words it has, for the hours; the nearest word otherwise); a
#: sentence without ("Il comporte 8 chiffres", after "Quel est votre numéro client ?") takes
#: the nearest such word of the whole text.
_HOURS_WORDS = {
    r"paiement|payment|compte locataire|tenant account|Caisse": "PAYMENT_POSTING_DELAY_HOURS",
    r"valid|assurance|insurance|délai|deadline|retard|overdue": "VALIDATION_DELAY_HOURS",
}
_DIGITS_WORDS = {r"client": "CLIENT_NUMBER_LENGTH", r"\bcode": "VERIFICATION_CODE_DIGITS"}
_MINUTES_WORDS = {r"\bcode|valable|valid": "VERIFICATION_CODE_MINUTES"}
_MONTHS_WORDS = {r"désactiv|deactivat|sortie|move-out|quittez|leave": "DEACTIVATION_MONTHS"}
_UNITS = (
    (_HOURS, _HOURS_WORDS, True),
    (_DIGITS, _DIGITS_WORDS, False),
    (_MINUTES, _MINUTES_WORDS, False),
    (_MONTHS, _MONTHS_WORDS, False),
)


def _fact(text: str, sentence: str, start: int, position: int, words: dict, first: bool) -> str:
    if first:
        for pattern, fact in words.items():
            if re.search(pattern, sentence, re.IGNORECASE):
                return fact
    return _nearest(sentence, position, words) or _nearest(text, start + position, words)


def statements(source: str, text: str) -> list[Statement]:
    """Every number with a unit, and every list of debit days, that ``text`` states."""
    found = []
    start = 0
    for sentence in _SENTENCE_END.split(text):
        start = text.find(sentence, start)
        if any(phrase in sentence for phrase in NOT_LANDLORD_FACTS):
            continue
        for pattern, words, first in _UNITS:
            for match in pattern.finditer(sentence):
                fact = _fact(text, sentence, start, match.start(), words, first)
                found.append(Statement(source, sentence, fact, int(match[1])))
        if re.search(r"prél[eè]v|debit", sentence, re.IGNORECASE):
            days = [int(day) for day in _DAY_FR.findall(sentence) + _DAY_EN.findall(sentence)]
            if days:
                found.append(Statement(source, sentence, "DEBIT_DAYS", tuple(sorted(days))))
    return found


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _variation_texts(variation: dict[str, Any]) -> list[str]:
    texts = [variation.get("text") or ""]
    texts += [button.get("title") or "" for button in variation.get("buttons") or []]
    return texts


@functools.cache
def responses() -> dict[str, list[dict[str, Any]]]:
    """Rasa's responses: ``domain.yml``'s and those of any training data file."""
    found = dict(yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"])
    for path in sorted((ROOT / "data").rglob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        found.update(document.get("responses") or {})
    return found


def _template_text(path: Path) -> str:
    """A template's source without its Jinja comments (notes to developers, not wording)."""
    return re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.DOTALL)


def template_statements() -> list[Statement]:
    return [
        statement
        for folder in TEMPLATE_FOLDERS
        for path in sorted((ROOT / folder).rglob("*"))
        if path.suffix in {".html", ".txt"}
        for statement in statements(str(path.relative_to(ROOT)), _template_text(path))
    ]


def wording_statements() -> list[Statement]:
    """Everything the chat, the channels, the error catalogue and the templates state."""
    found = [
        statement
        for name, variations in responses().items()
        for variation in variations
        for text in _variation_texts(variation)
        for statement in statements(f"domain.yml {name}", text)
    ]
    for catalogue in CATALOGUES:
        path = ROOT / catalogue
        content = path.read_text(encoding="utf-8")
        loaded = json.loads(content) if path.suffix == ".json" else yaml.safe_load(content)
        found += [s for text in _strings(loaded) for s in statements(catalogue, text)]
    return found + template_statements()


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\u2019", "'").replace("\u00a0", " ")
    return re.sub(r"\s+", " ", text).strip()


# --------------------------------------------------------------------------- the wording


def test_every_statement_of_a_fact_is_the_policy_value():
    wrong = [
        (s.source, s.sentence, s.fact, s.stated, s.expected)
        for s in wording_statements()
        if s.fact and s.stated != s.expected
    ]
    assert wrong == []


def test_every_number_with_a_unit_is_one_of_the_landlord_s_facts():
    unexplained = [(s.source, s.sentence, s.stated) for s in wording_statements() if not s.fact]
    assert unexplained == []


def test_templates_read_the_facts_from_the_policy():
    """Pages and emails write ``{{ landlord.X }}`` (or a value passed in), never the number."""
    written = [(s.source, s.sentence) for s in template_statements()]
    assert written == []


def test_the_policy_is_a_global_of_every_template():
    environment = TemplateSet().environment
    assert environment.globals["landlord"] is landlord
    rendered = environment.from_string(
        "{{ landlord.CLIENT_NUMBER_LENGTH }} chiffres, {{ landlord.VALIDATION_DELAY_HOURS }} h"
    ).render()
    assert rendered == f"{landlord.CLIENT_NUMBER_LENGTH} chiffres, 48 h"


@pytest.mark.parametrize(("fact", "names"), STATED_WHERE_THE_HELP_PAGE_STATES_IT.items())
def test_each_fact_is_stated_where_the_help_page_states_it(fact: str, names: tuple[str, ...]):
    silent = [
        (name, variation.get("condition"))
        for name in names
        for variation in responses()[name]
        if not any(s.fact == fact for s in statements(name, variation["text"]))
    ]
    assert silent == []


@pytest.mark.parametrize(
    "sentence",
    [
        "Votre demande est validée par nos équipes sous 72 h.",
        "An update is being validated by our teams (within 72 hours).",
        "Votre compte locataire est mis à jour dans un délai de 72 h.",
        "Votre numéro client comporte 9 chiffres.",
        "I need your 9-digit client number.",
        "Le prélèvement peut avoir lieu le 2, le 5 ou le 10 du mois.",
        "You can be debited on the 2nd, 7th or 15th of the month.",
        "Votre compte sera désactivé 12 mois après votre date de sortie.",
        "Un code à 6 chiffres vient d'être envoyé. Il est valable 15 minutes.",
    ],
)
def test_a_wrong_number_in_one_sentence_is_caught(sentence: str):
    assert [s for s in statements("probe", sentence) if s.fact and s.stated != s.expected]


# --------------------------------------------------------------------------- the source


def test_the_help_page_states_the_policy_values():
    page = _plain(HELP_PAGE.read_text(encoding="utf-8"))
    delays = re.findall(r"([^.]*)dans un délai de (\d+) ?h\b", page)
    assert {
        ("PAYMENT_POSTING" if "compte locataire" in before else "VALIDATION", int(hours))
        for before, hours in delays
    } == {
        ("VALIDATION", landlord.VALIDATION_DELAY_HOURS),
        ("PAYMENT_POSTING", landlord.PAYMENT_POSTING_DELAY_HOURS),
    }
    lengths = re.findall(r"Numéro client sur (\d+) (?:chiffres|positions)", page)
    assert len(lengths) == 2 and {int(n) for n in lengths} == {landlord.CLIENT_NUMBER_LENGTH}
    days = re.search(r"\(le (\d+), le (\d+) ou le (\d+) du mois\)", page)
    assert days is not None and tuple(map(int, days.groups())) == landlord.DEBIT_DAYS
    months = re.search(r"désactivé dans un délai de (\d+) mois", page)
    assert months is not None and int(months[1]) == landlord.DEACTIVATION_MONTHS


def test_the_policy_quotes_the_help_page():
    page = _plain(HELP_PAGE.read_text(encoding="utf-8"))
    source = Path(landlord.__file__).read_text(encoding="utf-8")
    quotes = re.findall(r'#: Help page: [^"]*"([^"]+)"', source)
    assert len(quotes) >= 4
    assert [quote for quote in quotes if _plain(quote) not in page] == []


def test_the_nlu_regexes_follow_the_policy():
    blocks = yaml.safe_load((ROOT / "data" / "nlu" / "regex.yml").read_text(encoding="utf-8"))
    regexes = {block["regex"]: block["examples"] for block in blocks["nlu"] if "regex" in block}
    assert re.findall(r"\\d\{(\d+)\}", regexes["client_number"]) == [
        str(landlord.CLIENT_NUMBER_LENGTH)
    ]
    alternatives = re.findall(r"\(\?:((?:\d+\|)+\d+)\|", regexes["debit_day"])
    assert alternatives and all(
        tuple(map(int, digits.split("|"))) == landlord.DEBIT_DAYS for digits in alternatives
    )


def test_the_debit_days_in_words_are_the_policy_s():
    from actions.direct_debit import _DAY_WORDS

    assert tuple(sorted(_DAY_WORDS.values())) == landlord.DEBIT_DAYS
