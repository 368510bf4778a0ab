"""The portal's templates: tenant pages, emails, mandates (``bot/portal/templates``)."""

from __future__ import annotations

from pathlib import Path

from bot.templating import TemplateSet

TEMPLATES_DIR = Path(__file__).parent / "templates"
portal_templates = TemplateSet(TEMPLATES_DIR)


def render(template: str, **context: object) -> str:
    return portal_templates.render(template, **context)


def render_email(name: str, **context: object) -> tuple[str, str]:
    """Render ``emails/<name>.txt``, whose first line is the subject; return (subject, body)."""
    text = render(f"emails/{name}.txt", **context)
    subject, _, body = text.partition("\n")
    return subject.removeprefix("Objet :").strip(), body.lstrip("\n")
