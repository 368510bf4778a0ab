"""Jinja2 rendering for the tenant pages and the emails; all French wording lives in templates."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES_DIR = Path(__file__).parent / "templates"


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(template: str, **context: object) -> str:
    return environment().get_template(template).render(**context)


def render_email(name: str, **context: object) -> tuple[str, str]:
    """Render ``emails/<name>.txt``, whose first line is the subject; return (subject, body)."""
    text = render(f"emails/{name}.txt", **context)
    subject, _, body = text.partition("\n")
    return subject.removeprefix("Objet :").strip(), body.lstrip("\n")
