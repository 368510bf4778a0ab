"""Turning what a tenant typed into slot values, using the portal's pure validation rules."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from bot.errors import InvalidInput
from bot.nlu.filler import FILLER_WORDS, words_of
from bot.policy.rules import normalise_client_number, normalise_email, normalise_surname

_DIGITS_RUN = re.compile(r"\d[\d .\-]*\d|\d")
# An e-mail address, whose digits are never a client number (prenom.19850312@example.org).
_EMAIL_WORD = re.compile(r"\S+@\S+")
# Lead-ins tenants put before their surname; removed so "c'est Martin" gives "Martin".
_SURNAME_LEAD_IN = re.compile(
    r"^(?:(?:c'?est|mon nom(?: de famille)?(?: c'?est| est)?|nom(?: du signataire)?\s*:?|"
    r"je m'?appelle|le nom(?: du signataire)? est|signataire\s*:?|my (?:last )?name is|"
    r"madame|monsieur|mme\.?|mlle\.?|mr\.?|m\.)\s+)+",
    re.IGNORECASE,
)
# Where a message holding several values is cut into parts: "Dupont, client 87654321".
_PARTS = re.compile(r"[,;:\n/()]+|\s+(?:et|and)\s+", re.IGNORECASE)
# Articles that begin surnames too ("Le Goff", "De La Tour"): alone, they are kept.
_ARTICLES = frozenset(words_of("le la les l' du de d' des un une"))
# Words that show a part is a request or a sentence, never a surname ("je veux m'inscrire").
_NOT_A_NAME = frozenset(
    words_of(
        """
    je j' j’ tu il elle on nous vous ils i you we veux voudrais voudrait souhaite souhaiterais
    aimerais peux pouvez want would like need inscrire m'inscrire m’inscrire inscription
    register sign créer creer compte account espace identifiant identifier mot passe password
    oublié oublie perdu forgot lost payer pay loyer rent est suis ai a avez pour avec sur dans
    pas ne n' qui que quoi comment pourquoi où ou quand combien merci bonjour salut hello
    journée journee soirée soiree cordialement voilà voila ça ca oui yes
    hi hey hiya bonsoir coucou bjr bsr slt cc allo allô thanks thank please svp stp
    """
    )
)


def client_number_from(text: str | None) -> str | None:
    """The 8-digit client number in ``text`` (spaces and dots tolerated), else ``None``.

    Digits inside an e-mail address are not a client number.
    """
    for run in _DIGITS_RUN.findall(_EMAIL_WORD.sub(" ", text or "")):
        try:
            return normalise_client_number(run)
        except InvalidInput:
            continue
    return None


def surname_from(text: str | None) -> str | None:
    """The surname the tenant answered; a message in several parts gives its one name part."""
    named = named_surname(text)
    if named:
        return named
    if _PARTS.search(text or ""):
        return surname_in(text)
    return _surname_of(text)


def _surname_of(text: str | None) -> str | None:
    cleaned = _SURNAME_LEAD_IN.sub("", (text or "").strip()).strip(" .!")
    if any(ch.isdigit() or ch == "@" for ch in cleaned) or len(cleaned.split()) > 4:
        return None
    try:
        return normalise_surname(cleaned)
    except InvalidInput:
        return None


def without_lead_in(part: str) -> str:
    """``part`` without the lead-in before the value ("le nom c'est Martin" -> "Martin",
    "non pardon c'est P-7777" -> "P-7777")."""
    words = part.split()
    lead = 0
    while lead < len(words) and all(w in FILLER_WORDS for w in words_of(words[lead])):
        lead += 1
    if all(w in _ARTICLES for word in words[:lead] for w in words_of(word)):
        return part.strip()
    return " ".join(words[lead:])


# "le nom c'est Martin", "je suis Martin", "je m'appelle Le Goff": a surname named as such,
# whichever question was asked. The name runs to the next punctuation, digit or value word.
_NAMED_SURNAME = re.compile(
    r"(?:\bje\s+suis|\bje\s+m'?\s?appelle|\b(?:le|mon)\s+nom(?:\s+de\s+famille)?\s*(?:c'?est|est|:)"
    r"|\bnom\s*:|\bmy\s+(?:last\s+)?name\s+is|\bi\s+am|\bi'm)\s+"
    r"(?:(?:madame|monsieur|mme\.?|mr\.?|m\.)\s+)?(?P<name>[^\W\d_][^,;:.!?\d@]*)",
    re.IGNORECASE,
)


# Where a named surname ends, or what shows "je suis ..." is not followed by a name.
_NAME_STOPS = _NOT_A_NAME | frozenset(
    words_of(
        """
    et and locataire tenant nouveau nouvelle new cliente inscrit inscrite déjà deja bloqué
    bloque bloquée bloquee marié mariée retraité retraitée sûr sur sûre certain
    """
    )
)


def named_surname(text: str | None) -> str | None:
    """The surname a message names as such ("non pardon, le nom c'est Lefebvre", "identifiant
    oublié, je suis Lefebvre numéro client ..."), else ``None``."""
    match = _NAMED_SURNAME.search(text or "")
    if match is None:
        return None
    words = match.group("name").split()
    while words and words_of(words[0])[:1] == ["bien"]:  # "je suis bien Martin"
        words.pop(0)
    name: list[str] = []
    for word in words:
        parts = words_of(word)
        if any(p in _NAME_STOPS or (p in FILLER_WORDS and p not in _ARTICLES) for p in parts):
            break
        name.append(word)
    while name and all(w in _ARTICLES for w in words_of(name[-1])):
        name.pop()
    return _surname_of(" ".join(name)) if name else None


# Words that open a correction of what was just answered ("non pardon c'est P-7777").
_CORRECTION_WORDS = frozenset(
    words_of(
        """
    non pardon désolé desole désolée desolee erreur oups oops trompé trompe trompée trompee
    plutôt plutot finalement corrige correction sorry actually wrong mistake no
    """
    )
)


def is_correction(text: str | None) -> bool:
    """Does the message open as a correction ("non pardon...", "je me suis trompé, ...")?"""
    return any(w in _CORRECTION_WORDS for w in words_of(text or "")[:5])


def looks_like_value(text: str) -> bool:
    """A short value (a name, a number, a reference), not a sentence ("sais pas")."""
    words = words_of(text)
    return 0 < len(words) <= 4 and not any(w in _NAME_STOPS for w in words)


def surname_in(text: str | None) -> str | None:
    """The surname in a message that holds other things too ("Dupont, client 87654321",
    "inscription : 11223344 Nguyen"): the one part that looks like a name once the values and
    the lead-ins are gone. ``None`` when there is no such part, or more than one."""
    names = []
    for part in _PARTS.split(_EMAIL_WORD.sub(" ", text or "")):
        part = re.sub(r"\d+", " ", without_lead_in(part.strip(" .!?")))
        words = words_of(part)
        if not words or len(words) > 3 or any(w in _NOT_A_NAME for w in words):
            continue
        if all(w in FILLER_WORDS for w in words):
            continue
        surname = _surname_of(part)
        if surname:
            names.append(surname)
    return names[0] if len(names) == 1 else None


def email_from(text: str | None) -> str | None:
    candidates = [word.strip(".,;:!?()<>\"'") for word in (text or "").split() if "@" in word]
    for candidate in candidates or [text or ""]:
        try:
            return normalise_email(candidate)
        except InvalidInput:
            continue
    return None


def without_spans(text: str, entities: Iterable[Mapping[str, Any]]) -> str:
    """``text`` without the characters of ``entities`` (each with ``start`` and ``end``)."""
    kept = list(text)
    for entity in entities:
        start, end = entity.get("start"), entity.get("end")
        if isinstance(start, int) and isinstance(end, int):
            kept[start:end] = [" "] * (end - start)
    return " ".join("".join(kept).split()).strip(" ,;:.-")


def only_filler(text: str) -> bool:
    """True when ``text`` holds nothing but lead-ins and corrections ("non pardon c'est")."""
    return all(w in FILLER_WORDS for w in words_of(text))
