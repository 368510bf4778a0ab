"""Fixtures of the runner's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.dialogue import recipe
from bot.runner import rasa_speedups, training_speedups

INHERITED = object()


@pytest.fixture
def rasas_own() -> Iterator[None]:
    """Rasa's own methods back in place after the test (the entry point installs every table
    of replacements)."""
    replaced = rasa_speedups.REPLACEMENTS + training_speedups.REPLACEMENTS + recipe.REPLACEMENTS
    own = [(owner, name, vars(owner).get(name, INHERITED)) for owner, name, _ in replaced]
    yield
    for owner, name, method in own:
        if method is INHERITED:  # e.g. RasaModel.fit is Keras's: the override goes
            if name in vars(owner):
                delattr(owner, name)
        else:
            setattr(owner, name, method)
