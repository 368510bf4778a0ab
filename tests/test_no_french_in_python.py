"""No French sentence in Python: the words live in their audience's catalogue.

The chat's in ``domain.yml``, the channels' own in ``bot/channels/messages_fr.yml``, pages and
emails in the packages' templates, the staff console's in its templates (``staff/*_labels.html``),
errors in ``bot/errors_fr.yml``. Python raises codes and passes values.

The check is a heuristic over string literals (docstrings aside): accented letters, guillemets
or common French words, in a literal with a space. It leaves out the operator's side (the run
and staff CLIs, the process runner, the settings), which may speak French or English, and the
literals listed in ``ALLOWED``: language data and demo data, each with its reason.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "actions")
#: The operator's side: what the operator runs and reads (start-up, CLIs, settings).
OPERATOR = ("bot/cli.py", "bot/staff/cli.py", "bot/runner/", "bot/settings.py")

FRENCH = re.compile(
    r"[éèêëàâçùûôîïœ«»]|(?<![\w-])(?:le|la|les|des|du|de|un|une|au|aux|ce|cette|est|pas|vous"
    r"|votre|pour|dans|sur|avec|trop|aucune?|inconnue?|introuvable|invalide)(?![\w-])",
    re.IGNORECASE,
)

_MARKS = (
    "markers written into stored transcripts and logs in place of a secret: data staff read "
    "inside the stored text, not wording rendered from a catalogue; the password pattern "
    "matches its own marker so that redaction is idempotent"
)
_TENANT_WORDS = "words matched in what tenants type (language data, not wording)"

#: File -> {fragment of an allowed literal: why it stays in Python}.
ALLOWED: dict[str, dict[str, str]] = {
    "bot/privacy/redaction.py": {
        "[IBAN masqué]": _MARKS,
        "[carte masquée]": _MARKS,
        "[code masqué]": _MARKS,
        "[jeton masqué]": _MARKS,
        "[valeur masquée]": _MARKS,
        "[cryptogramme masqué]": _MARKS,
        "[mot de passe masqué]": _MARKS,
        "bloqué bloque refusé": _TENANT_WORDS + ' ("mon mot de passe est bloqué")',
    },
    "bot/channels/telegram/library_logs.py": {
        "<jeton du bot>": "marker hiding the bot token in the operator's logs",
    },
    "bot/nlu/filler.py": {"non no nan pardon": _TENANT_WORDS},
    "actions/slot_rules.py": {
        "c'?est|mon nom": _TENANT_WORDS + " (lead-ins before a surname)",
        "le la les l' du de": _TENANT_WORDS + " (articles)",
        "je j' j’ tu il": _TENANT_WORDS + " (pronouns and verbs of a request)",
        "non pardon désolé": _TENANT_WORDS + " (a correction)",
        "et and locataire": _TENANT_WORDS + " (words around a client number)",
    },
    "bot/policy/french_dates.py": {
        "valable|valide|jusqu": _TENANT_WORDS + " (before a date)",
        "%d/%m/%Y à %H:%M": "how a French reader writes a date and time (a format, like the "
        "month names beside it)",
    },
    "bot/portal/services/demo.py": {
        ", 67": "demo households' addresses (data)",
    },
    "bot/portal/services/insurers.py": {
        "Crédit Agricole": "insurers' names (data)",
        "Société Générale": "insurers' names (data)",
        "Crédit Mutuel": "insurers' names (data)",
        "La Banque Postale": "insurers' names (data)",
    },
    "bot/portal/services/mandate_pdf.py": {
        "Service DFC, 24 route de l": "the landlord's address for signed mandates (a fact)",
    },
    "bot/staff/transcripts/synthetic.py": {
        "Très bien, je m'en occupe.": "the bot's reply in synthetic transcripts (test and "
        "benchmark data)",
    },
    "bot/portal/db.py": {
        "La base de données date d'une version": "start-up failure the operator reads",
        " manque. Migrez-la": "start-up failure the operator reads",
    },
    "bot/portal/api/widget_assets.py": {
        "Le widget de discussion n'est pas installé": "set-up step the operator reads (in "
        "French and English)",
        "Fichier introuvable. / Not found.": "plain 404 of a static file (French and English)",
    },
}


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def french_literals(path: Path) -> list[tuple[int, str]]:
    """(line, text) of the string literals of ``path`` that read as French, docstrings aside."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = _docstrings(tree)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docs
        and " " in node.value.strip()
        and FRENCH.search(node.value)
    ]


def _sources() -> list[tuple[str, Path]]:
    return [
        (name, path)
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "node_modules" not in path.parts
        and not (name := path.relative_to(ROOT).as_posix()).startswith(OPERATOR)
    ]


def test_no_french_sentence_in_python() -> None:
    found = [
        f"{name}:{line}: {text[:80]!r}"
        for name, path in _sources()
        for line, text in french_literals(path)
        if not any(fragment in text for fragment in ALLOWED.get(name, {}))
    ]
    assert not found, "French wording in Python; move it to its catalogue:\n" + "\n".join(found)


def test_every_allowed_literal_is_still_there() -> None:
    """The allow-list shrinks with the code: an entry nothing matches any more must go."""
    present = {name: [text for _, text in french_literals(path)] for name, path in _sources()}
    stale = [
        f"{name}: {fragment!r}"
        for name, fragments in ALLOWED.items()
        for fragment in fragments
        if not any(fragment in text for text in present.get(name, []))
    ]
    assert not stale, "Allow-list entries that match nothing:\n" + "\n".join(stale)


def test_the_heuristic_sees_a_sentence_but_not_an_identifier() -> None:
    assert FRENCH.search("Ce compte est déjà fermé.")
    assert FRENCH.search("Compte introuvable.")
    assert not FRENCH.search("de-duplication unavailable, handled anyway")
    assert not FRENCH.search("account_not_found")
