"""Fixtures of the runner's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.runner.rasa_main import all_replacements

INHERITED = object()


@pytest.fixture
def rasas_own() -> Iterator[None]:
    """Rasa's own methods back in place after the test (the entry point installs every table
    of replacements)."""
    replaced = all_replacements()
    own = [(owner, name, vars(owner).get(name, INHERITED)) for owner, name, _ in replaced]
    yield
    for owner, name, method in own:
        if method is INHERITED:  # e.g. RasaModel.fit is Keras's: the override goes
            if name in vars(owner):
                delattr(owner, name)
        else:
            setattr(owner, name, method)
