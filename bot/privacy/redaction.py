"""Redaction of secrets in tenant messages, bot messages and tracker events: pure functions.

What is masked, and the marker staff see in its place (the tenant never sees them):

==========================  ==================  =========================================
what                        marker              rule (ordinary numbers stay readable)
==========================  ==================  =========================================
IBAN, any country           ``[IBAN masqué]``   country code + check digits + BBAN, spaces,
                                                dashes or dots allowed (``FR 76 3000...``,
                                                as the portal accepts it), any case; the
                                                country's length and BBAN format must fit
                                                (schwifty); a wrong checksum is still masked
                                                (a typo leaves an almost real account number)
card number                 ``[carte masquée]`` 13-19 digits, contiguous or in groups of
                                                3-6 (spaces, dashes, dots), Luhn-valid
card security code          ``[cryptogramme     3-4 digits after "CVV", "CVC",
                            masqué]``           "cryptogramme", "code de sécurité"
password                    ``[mot de passe     the word after "mot de passe / mdp /
                            masqué]``           password" + "est", "c'est", ":", "=" (or a
                                                quoted phrase); "est bloqué" and such stay
one-time code               ``[code masqué]``   6 digits (``123456``, ``123 456``,
                                                ``1 2 3 4 5 6``, ``12-34-56``) when the message
                                                is essentially a code or mentions one;
                                                amounts, phone and client numbers stay
link token                  ``[jeton masqué]``  ``jeton=``/``token=``/``code=``... query values,
                                                ``/paiement/<t>`` and ``/depot/<t>`` paths,
                                                ``Bearer <t>``, JWTs
long random string          ``[jeton masqué]``  24+ URL-safe characters mixing letters and
                                                digits (or upper and lower case); canonical
                                                UUIDs stay, they identify, they don't unlock
==========================  ==================  =========================================

Emails, client numbers, names and amounts are *not* masked: staff need them to help.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

from schwifty import IBAN
from schwifty.exceptions import InvalidChecksumDigits
from stdnum import luhn

IBAN_MARK = "[IBAN masqué]"
CARD_MARK = "[carte masquée]"
CODE_MARK = "[code masqué]"
TOKEN_MARK = "[jeton masqué]"
VALUE_MARK = "[valeur masquée]"
CVV_MARK = "[cryptogramme masqué]"
PASSWORD_MARK = "[mot de passe masqué]"

#: Slots whose whole value is replaced, whatever it looks like.
DEFAULT_SENSITIVE_SLOTS: frozenset[str] = frozenset(
    {"iban", "card_number", "verification_code", "session_token"}
)

_SEP = " \u00a0\u202f-"  # what people type between groups: space, no-break spaces, dash
_GROUP_SEP = "." + _SEP  # and, copying a RIB or a card, dots (first: "-" stays last)
_IBAN_MIN, _IBAN_MAX = 15, 34
_CARD_MIN, _CARD_MAX = 13, 19

_IBAN_CANDIDATE = re.compile(
    rf"(?<![A-Za-z0-9])[A-Za-z]{{2}}[{_GROUP_SEP}]?\d{{2}}(?:[{_GROUP_SEP}]?[A-Za-z0-9]){{11,30}}"
)
_DIGIT_RUN = re.compile(rf"(?<![\d.,])\d+(?:[{_GROUP_SEP}]\d+)*")
_DIGIT_GROUP = re.compile(r"\d+")
# A payment transaction id (``trans_id=123456`` in the portal's logs) is no secret: kept;
# nor are digits glued to letters (``P-000123``, a policy number): codes are typed alone.
_SIX_DIGITS = re.compile(
    rf"(?<!trans_id=)(?<![\d.,])(?<!\d[{_SEP}])(?<![^\W\d_])(?<![^\W\d_][-_/])"
    rf"\d(?:[{_GROUP_SEP}]?\d){{5}}(?![^\W\d_])"
    rf"(?!\d|[.,]\d|[{_SEP}]\d)(?!\s?(?:€|eur\b|euros?\b))",
    re.IGNORECASE,
)
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_CODE_WORDS = re.compile(
    r"\b(?:code|codes|otp|v[ée]rification|chiffres|sms|pin|mdp|passe|password)\b", re.IGNORECASE
)
_WORD = re.compile(r"[^\W\d_]+")
_CVV = re.compile(
    r"(\b(?:cvv2?|cvc2?|cvn|cryptogramme(?:\s+visuel)?|crypto|code\s+de\s+s[ée]curit[ée])\b"
    r"[^\d\n\[]{0,20}?)\d{3,4}(?![.,]?\d)",
    re.IGNORECASE,
)
_PASSWORD = re.compile(
    r"(\b(?:mot\s+de\s+passe|mdp|password|passwd|pwd)\b"
    r"(?:\s+(?:actuel|provisoire|temporaire|nouveau|ancien))?"
    r"[\s,]*(?:(?:est|c['’]?est|sera|serait|était|etait|is)\b\s*:?\s*|[:=]\s*))"
    rf"(?!{re.escape(PASSWORD_MARK)})"
    r"(\"[^\"\n]{1,64}\"|«[^»\n]{1,64}»|[^\s\"«]\S{0,63})",
    re.IGNORECASE,
)
#: Words that follow "mon mot de passe est" without being one ("est bloqué", "est le même").
_NOT_A_PASSWORD_WORDS = """
    bloqué bloque refusé refuse incorrect incorrecte faux fausse oublié oublie perdu
    expiré expire invalide erroné errone erronée bon mauvais correct correcte changé change
    modifié modifie réinitialisé vide long court trop pas plus toujours encore déjà deja
    le la les l un une mon ma mes son sa ce cet cette ça ca quoi quel quelle comment
    je j il elle on nous vous ils elles où ou et ?"""
_NOT_A_PASSWORD = frozenset(_NOT_A_PASSWORD_WORDS.split())
_CODE_MESSAGE_MAX_WORDS = 3

_QUERY_TOKEN = re.compile(
    r"(?<![A-Za-z0-9_])((?:jeton|token|access_token|refresh_token|code|otp|key|api_key|sig|"
    r"signature|secret)=)[^&#\s'\"<>[]+",
    re.IGNORECASE,
)
_PATH_TOKEN = re.compile(r"(/(?:paiement|depot|dépôt)/)([A-Za-z0-9_\-.~%]+)", re.IGNORECASE)
_BEARER = re.compile(r"\b(bearer\s+)[A-Za-z0-9\-._~+/]{8,}=*", re.IGNORECASE)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_LONG_RUN = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{24,}(?![A-Za-z0-9_-])")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


# --------------------------------------------------------------------------- text


def redact_text(text: str, *, strict_codes: bool = False) -> str:
    """``text`` with IBANs, card numbers, one-time codes and tokens replaced by markers.

    Args:
        text: a tenant or bot message (or any text).
        strict_codes: mask every stand-alone 6-digit number, not only in a message that is
            essentially a code. For log lines, where a message is embedded in other words.

    Idempotent: markers hold no digits, so redacting twice changes nothing more.
    """
    if not text:
        return text
    text = _redact_link_tokens(text)
    text = _redact_ibans(text)
    text = _redact_cards(text)
    text = _CVV.sub(lambda m: m.group(1) + CVV_MARK, text)
    text = _PASSWORD.sub(_password_masked, text)
    text = _redact_codes(text, strict=strict_codes)
    return _LONG_RUN.sub(lambda m: TOKEN_MARK if _is_random(m.group()) else m.group(), text)


def redact_filename(name: str) -> str:
    """A file name with IBANs, card numbers and tokens masked (``RIB [IBAN masqué].pdf``).

    Six-digit numbers stay: in a file name they are times (``IMG_20240312_101530.jpg``), not
    one-time codes.
    """
    if not name:
        return name
    name = _redact_cards(_redact_ibans(_redact_link_tokens(name)))
    return _LONG_RUN.sub(lambda m: TOKEN_MARK if _is_random(m.group()) else m.group(), name)


def is_iban(candidate: str) -> bool:
    """An IBAN with a valid or merely mistyped checksum (country, length and format fit)."""
    try:
        IBAN(candidate.upper())
    except InvalidChecksumDigits:
        return True  # checked last by schwifty: everything but the check digits fits
    except ValueError:
        return False
    return True


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum card numbers carry in their last digit (python-stdnum's)."""
    # ``\d`` also finds other scripts' digits ("٤١١١..."), which stdnum does not read: as ASCII.
    return luhn.checksum("".join(str(int(char)) for char in digits)) == 0


def _redact_link_tokens(text: str) -> str:
    text = _QUERY_TOKEN.sub(lambda m: m.group(1) + TOKEN_MARK, text)
    text = _PATH_TOKEN.sub(
        lambda m: m.group(1) + TOKEN_MARK if _is_path_token(m.group(2)) else m.group(), text
    )
    text = _BEARER.sub(lambda m: m.group(1) + TOKEN_MARK, text)
    return _JWT.sub(TOKEN_MARK, text)


def _is_path_token(segment: str) -> bool:
    # "/paiement/retour" is a page; "/paiement/Xk3..." is somebody's payment
    return len(segment) >= 16 or (len(segment) >= 8 and any(c.isdigit() for c in segment))


def _redact_ibans(text: str) -> str:
    parts: list[str] = []
    done = position = 0
    while match := _IBAN_CANDIDATE.search(text, position):
        end = _longest_iban_end(text, match.start(), match.end())
        if end is None:
            position = match.start() + 1
            continue
        parts += [text[done : match.start()], IBAN_MARK]
        done = position = end
    return "".join(parts) + text[done:]


def _longest_iban_end(text: str, start: int, stop: int) -> int | None:
    """The farthest word end in ``text[start:stop]`` that closes a whole IBAN."""
    for end in range(stop, start, -1):
        if not text[end - 1].isalnum() or (end < len(text) and text[end].isalnum()):
            continue
        compact = re.sub(rf"[{_GROUP_SEP}]", "", text[start:end])
        if _IBAN_MIN <= len(compact) <= _IBAN_MAX and is_iban(compact):
            return end
    return None


def _redact_cards(text: str) -> str:
    spans: list[tuple[int, int]] = []
    for run in _DIGIT_RUN.finditer(text):
        groups = list(_DIGIT_GROUP.finditer(run.group()))
        first = 0
        while first < len(groups):
            last = _longest_card(groups, first)
            if last is None:
                first += 1
                continue
            spans.append((run.start() + groups[first].start(), run.start() + groups[last].end()))
            first = last + 1
    for start, end in reversed(spans):
        text = text[:start] + CARD_MARK + text[end:]
    return text


def _longest_card(groups: list[re.Match[str]], first: int) -> int | None:
    """Index of the last group of the longest card number starting at group ``first``."""
    windows: list[tuple[int, list[str]]] = []
    window: list[str] = []
    for last in range(first, len(groups)):  # at most 19 digits: a few groups, never the run
        window = [*window, groups[last].group()]
        if sum(map(len, window)) > _CARD_MAX:
            break
        windows.append((last, window))
    for last, window in reversed(windows):
        digits = "".join(window)
        if len(digits) < _CARD_MIN:
            break
        # Typed in groups, cards come as 4-4-4-4, 4-6-5...; two 8-digit client numbers don't.
        grouped_like_a_card = all(3 <= len(g) <= 6 for g in window[:-1]) and len(window[-1]) <= 6
        if (len(window) == 1 or grouped_like_a_card) and luhn_valid(digits):
            return last
    return None


def _password_masked(match: re.Match[str]) -> str:
    word = match.group(2).rstrip(".,;:!?").replace("’", "'").split("'")[0].lower()
    if word in _NOT_A_PASSWORD:
        return match.group()
    return match.group(1) + PASSWORD_MARK


def _redact_codes(text: str, *, strict: bool) -> str:
    matches = [m for m in _SIX_DIGITS.finditer(text) if not _IPV4.fullmatch(m.group())]
    if not matches or not (strict or _is_code_message(text, matches)):
        return text
    return _SIX_DIGITS.sub(_code_masked, text)


def _code_masked(match: re.Match[str]) -> str:
    """An address such as 127.0.0.1 has six digits too: it stays (a log names its server)."""
    return match.group() if _IPV4.fullmatch(match.group()) else CODE_MARK


def _is_code_message(text: str, matches: list[re.Match[str]]) -> bool:
    """The message mentions a code, or is little more than the number itself."""
    if _CODE_WORDS.search(text):
        return True
    rest = text
    for match in reversed(matches):
        rest = rest[: match.start()] + " " + rest[match.end() :]
    return len(_WORD.findall(rest)) <= _CODE_MESSAGE_MAX_WORDS


def _is_random(run: str) -> bool:
    """A secret rather than a word or an identifier such as ``register_form_client_number``.

    Random strings mix letters with digits, or change case often, within long stretches;
    names join words with ``_`` or ``-`` and change case once per word at most.
    """
    if _UUID.fullmatch(run):
        return False
    return any(len(piece) >= 8 and _looks_random(piece) for piece in re.split(r"[_-]", run))


def _looks_random(piece: str) -> bool:
    has_digit = any(c.isdigit() for c in piece)
    has_letter = any(c.isalpha() for c in piece)
    letters = [c.islower() for c in piece if c.isalpha()]
    case_changes = sum(1 for a, b in zip(letters, letters[1:], strict=False) if a != b)
    return (has_digit and has_letter) or case_changes >= len(piece) / 3


# --------------------------------------------------------------------------- events


def redact_value(value: Any, *, redact: Callable[[str], str] = redact_text) -> Any:
    """``value`` with every string inside (lists, dicts) redacted; other types unchanged."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {key: redact_value(item, redact=redact) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(item, redact=redact) for item in value]
    return value


def slot_marker(name: str) -> str:
    """What replaces the whole value of the sensitive slot ``name``."""
    lowered = name.lower()
    if "iban" in lowered:
        return IBAN_MARK
    if "card" in lowered or "carte" in lowered:
        return CARD_MARK
    if "code" in lowered:
        return CODE_MARK
    if "token" in lowered or "jeton" in lowered:
        return TOKEN_MARK
    return VALUE_MARK


def redact_event(
    event: Mapping[str, Any], sensitive_slots: Collection[str] = DEFAULT_SENSITIVE_SLOTS
) -> dict[str, Any]:
    """A redacted deep copy of one serialised Rasa event (``Event.as_dict()``).

    Every event: ``text`` and ``action_text`` (bot, agent, end-to-end actions), ``metadata``
    (any event may carry the channel's), top-level ``entities`` values. ``user``: also
    ``parse_data`` text, entity values and metadata. ``bot``: also ``data`` (buttons, custom
    payloads). ``slot``: a sensitive slot's value is replaced whole; any other slot's strings
    are redacted. Names, intents, timestamps and message ids are left as they are.
    """
    copied = copy.deepcopy(dict(event))
    for key in ("text", "action_text"):
        if isinstance(copied.get(key), str):
            copied[key] = redact_text(copied[key])
    if "metadata" in copied:
        copied["metadata"] = redact_value(copied["metadata"])
    if "entities" in copied:
        copied["entities"] = _redact_entities(copied["entities"], sensitive_slots)
    kind = copied.get("event")
    if kind == "user" and isinstance(copied.get("parse_data"), dict):
        _redact_parse_data(copied["parse_data"], sensitive_slots)
    elif kind == "bot" and "data" in copied:
        copied["data"] = redact_value(copied["data"])
    elif kind == "slot":
        copied["value"] = _redact_slot_value(
            copied.get("name"), copied.get("value"), sensitive_slots
        )
    return copied


def _redact_parse_data(parse_data: dict[str, Any], sensitive_slots: Collection[str]) -> None:
    if isinstance(parse_data.get("text"), str):
        parse_data["text"] = redact_text(parse_data["text"])
    if "entities" in parse_data:
        parse_data["entities"] = _redact_entities(parse_data["entities"], sensitive_slots)
    if "metadata" in parse_data:
        parse_data["metadata"] = redact_value(parse_data["metadata"])


def _redact_entities(entities: Any, sensitive_slots: Collection[str]) -> Any:
    if not isinstance(entities, list):
        return entities
    for entity in entities:
        if isinstance(entity, dict) and "value" in entity:
            entity["value"] = _redact_slot_value(
                entity.get("entity"), entity["value"], sensitive_slots
            )
    return entities


def _redact_slot_value(name: Any, value: Any, sensitive_slots: Collection[str]) -> Any:
    if value is not None and name in sensitive_slots:
        return slot_marker(str(name))
    return redact_value(value)
