"""The one exception hierarchy of the portal, the console and the shared rules
(``bot.policy``); ``bot/web/errors.py`` maps it to HTTP once.

::

    PortalError
     ├── InvalidInput        bad or missing field            -> 400
     ├── NotAuthenticated    missing or wrong service token   -> 401
     ├── NotFound            unknown route or resource        -> 404
     ├── Conflict            state forbids the operation      -> 409
     ├── TokenInvalid        link unknown, used or expired    -> 410
     └── RateLimited         too many attempts                -> 429

Each error carries a stable ``code`` the actions branch on, the ``field`` at fault and the
values its wording needs. The words are not here: ``message`` is the entry of the error's
``message_id`` in ``errors_fr.yml`` (beside this file), formatted with those values::

    raise InvalidInput(code="invalid_client_number", field="client_number", length=LENGTH)
    raise InvalidInput(code="too_long", variant="note", field="note", maximum=NOTE_MAX)

The id is the code, or ``code.variant`` where one code is worded several ways (its entry
names the case). Pages, the JSON ``message`` of the API and the console show ``message``;
the chat never does: actions branch on ``code`` and answer with domain.yml responses.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path

import yaml

#: The French wording of every error of this hierarchy, by message id.
CATALOGUE_FILE = Path(__file__).with_name("errors_fr.yml")


@functools.cache
def catalogue() -> dict[str, str]:
    """The wording of ``errors_fr.yml`` by message id (read once)."""
    loaded = yaml.safe_load(CATALOGUE_FILE.read_text(encoding="utf-8")) or {}
    return {str(key): str(text) for key, text in loaded.items()}


def message_text(message_id: str, **values: object) -> str:
    """The catalogue's text for ``message_id`` with its ``{placeholders}`` filled in."""
    return catalogue()[message_id].format(**values)


def or_list(items: Iterable[str]) -> str:
    """Items as a sentence lists them: ``le 2, le 7 ou le 10`` (separators: the catalogue)."""
    words = list(items)
    if len(words) < 2:
        return "".join(words)
    separator = catalogue()["list.separator"]
    return separator.join(words[:-1]) + catalogue()["list.last_separator"] + words[-1]


class PortalError(Exception):
    """Base class; its wording, like every subclass's, is the catalogue entry of its code."""

    code = "portal_error"

    def __init__(
        self,
        *,
        code: str | None = None,
        variant: str | None = None,
        field: str | None = None,
        **values: object,
    ) -> None:
        if code:
            self.code = code
        self.variant = variant
        self.field = field
        self.values = values
        super().__init__(self.message_id)

    @property
    def message_id(self) -> str:
        """The catalogue entry of this error: its code, or ``code.variant``."""
        return f"{self.code}.{self.variant}" if self.variant else self.code

    @property
    def message(self) -> str:
        """The French text pages and the API show, from the catalogue (``errors_fr.yml``)."""
        texts = catalogue()
        # An id the catalogue lacks (tests/test_error_catalogue.py keeps that from happening)
        # falls back to its class's wording rather than failing while an error is reported.
        known = next(
            (key for key in (self.message_id, self.code, type(self).code) if key in texts),
            None,
        )
        return message_text(known, field=self.field, **self.values) if known else ""

    def __str__(self) -> str:
        return self.message or self.code


class InvalidInput(PortalError):
    """A value is missing or malformed."""

    code = "invalid_input"


class NotAuthenticated(PortalError):
    """Authentication required (service token, verified conversation, staff session)."""

    code = "not_authenticated"


class NotFound(PortalError):
    """No such resource."""

    code = "not_found"


class Conflict(PortalError):
    """The operation is not possible in the current state."""

    code = "conflict"


class TokenInvalid(PortalError):
    """A link or token unknown, already used or expired."""

    code = "token_invalid"


class RateLimited(PortalError):
    """Too many attempts."""

    code = "rate_limited"
