"""Every error raised has its French words in ``bot/errors_fr.yml``, with the values they need.

The raise sites are read from the source (``ast``): a call with a constant ``code=`` (or a
class of the hierarchy, whose code it is) and an optional constant ``variant=`` names the
message id ``code`` or ``code.variant``; ``message_text("id", ...)`` names one directly. Ids
built at run time are listed in ``DYNAMIC_IDS`` beside the code that builds them.
"""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest
import yaml

from bot import errors
from bot.portal.models import UPLOAD_KINDS
from bot.staff import errors as staff_errors

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "actions")

#: Ids made at run time, and where.
DYNAMIC_IDS = {
    # bot/portal/api/verification_api.py: TokenInvalid(code=check.problem) for these problems.
    "code_expired",
    "no_challenge",
    # bot/staff/services/decisions.py clean_note: the variant is the form field.
    "note_required.motif",
    "note_required.message",
    # bot/portal/services/uploads.py: each kind a link accepts.
    *(f"file_kind.{kind}" for kind in UPLOAD_KINDS),
    # bot/web/errors.py status_text: a status without its own entry.
    "http.other",
}
#: Entries read by prefix at run time (bot/web/errors.py: ``http.<status>``).
READ_BY_PREFIX = ("http.",)


def _hierarchy() -> dict[str, str]:
    """Class name -> its code, for every class of the hierarchy."""
    classes = [errors.PortalError]
    for cls in classes:
        classes.extend(cls.__subclasses__())
    assert staff_errors.LastAdmin in classes
    return {cls.__name__: cls.code for cls in classes}


CLASS_CODES = _hierarchy()


class _NoDuplicates(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        keys = [self.construct_object(key, deep=deep) for key, _ in node.value]
        duplicates = {key for key in keys if keys.count(key) > 1}
        if duplicates:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate ids {duplicates}")
        return super().construct_mapping(node, deep=deep)


def _name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def _constant(call: ast.Call, keyword: str) -> tuple[bool, str | None]:
    """(whether the keyword is given, its value if a constant string)."""
    for item in call.keywords:
        if item.arg == keyword:
            value = item.value
            return True, value.value if isinstance(value, ast.Constant) else None
    return False, None


def _raised() -> dict[str, list[tuple[str, set[str]]]]:
    """Message id -> (where, the keyword names the call gives) for each site naming it."""
    found: dict[str, list[tuple[str, set[str]]]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for call in (node for node in ast.walk(tree) if isinstance(node, ast.Call)):
                where = f"{path.relative_to(ROOT)}:{call.lineno}"
                names = {item.arg for item in call.keywords if item.arg} | {"field"}
                if _name(call.func) == "message_text" and call.args:
                    first = call.args[0]
                    if isinstance(first, ast.Constant) and isinstance(first.value, str):
                        found.setdefault(first.value, []).append((where, names))
                    continue
                if _name(call.func) == "int_field":  # bot/web/inputs.py: missing= is a variant
                    code = "missing_field"
                    has_variant, variant = _constant(call, "missing")
                else:
                    has_code, code = _constant(call, "code")
                    has_variant, variant = _constant(call, "variant")
                    if not has_code:
                        code = CLASS_CODES.get(_name(call.func))
                if not code or (has_variant and variant is None):
                    continue  # not an error, or an id made at run time (DYNAMIC_IDS)
                message_id = f"{code}.{variant}" if variant else code
                found.setdefault(message_id, []).append((where, names))
    return found


RAISED = _raised()


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_catalogue_is_a_flat_mapping_of_texts_without_duplicate_ids() -> None:
    loaded = yaml.load(errors.CATALOGUE_FILE.read_text(encoding="utf-8"), Loader=_NoDuplicates)
    assert all(isinstance(key, str) and isinstance(text, str) for key, text in loaded.items())
    assert loaded == errors.catalogue()


def test_the_scan_finds_the_raise_sites() -> None:
    assert "invalid_client_number" in RAISED  # raise InvalidInput(code=...)
    assert "handoff_taken.by" in RAISED  # raise Conflict(code=..., variant=...)
    assert "staff_not_allowed.inactive" in RAISED  # raise StaffNotAllowed(variant=...)
    assert "invalid_iban_country" in RAISED  # a helper taking code=
    assert "missing_field.certificate" in RAISED  # int_field(missing=...)
    assert "opening_hours.overlap" in RAISED  # message_text(...)


def test_every_error_raised_has_its_words() -> None:
    texts = errors.catalogue()
    missing = sorted(
        f"{message_id} ({sites[0][0]})"
        for message_id, sites in RAISED.items()
        if message_id not in texts
    )
    missing += sorted(message_id for message_id in DYNAMIC_IDS if message_id not in texts)
    assert not missing, "No entry in bot/errors_fr.yml for:\n" + "\n".join(missing)


@pytest.mark.parametrize("name", sorted(CLASS_CODES))
def test_every_class_has_its_words(name: str) -> None:
    assert CLASS_CODES[name] in errors.catalogue()


def test_every_raise_gives_the_values_its_words_need() -> None:
    texts = errors.catalogue()
    lacking = [
        f"{where}: {message_id} needs {sorted(_placeholders(texts[message_id]) - names)}"
        for message_id, sites in RAISED.items()
        if message_id in texts
        for where, names in sites
        if _placeholders(texts[message_id]) - names
    ]
    assert not lacking, "\n".join(lacking)


def test_every_entry_is_used() -> None:
    used = set(RAISED) | DYNAMIC_IDS | set(CLASS_CODES.values())
    used |= {"list.separator", "list.last_separator"}  # bot.errors.or_list
    unused = sorted(
        message_id
        for message_id in errors.catalogue()
        if message_id not in used and not message_id.startswith(READ_BY_PREFIX)
    )
    assert not unused, "Entries nothing raises (remove them):\n" + "\n".join(unused)


def test_an_error_reads_as_its_entry_with_its_values() -> None:
    error = errors.InvalidInput(code="too_long", variant="note", field="note", maximum=4000)
    assert (error.code, error.message_id, error.field) == ("too_long", "too_long.note", "note")
    assert error.message == str(error) == "La note dépasse 4000 caractères."
    assert errors.InvalidInput(code="missing_field", field="email").message == (
        "Le champ « email » est obligatoire."
    )
    assert errors.or_list(["le 2", "le 7", "le 10"]) == "le 2, le 7 ou le 10"
