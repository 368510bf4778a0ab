"""The staff console's templates (``bot/staff/templates/staff/``), over the shared layout."""

from __future__ import annotations

from pathlib import Path

from bot.templating import TemplateSet

TEMPLATES_DIR = Path(__file__).parent / "templates"
staff_templates = TemplateSet(TEMPLATES_DIR)


def render(template: str, **context: object) -> str:
    return staff_templates.render(template, **context)
