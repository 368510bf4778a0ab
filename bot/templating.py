"""Jinja2 template sets: each package renders its own templates over the shared ones.

The portal (tenant pages, emails, mandates) and the staff console each own a ``templates``
folder; both extend the shared layout and error page of the web edge (``bot/web/templates``).
All French wording of pages and emails lives in templates, none in Python. The landlord's facts
and limits are a global of every template: ``{{ landlord.VALIDATION_DELAY_HOURS }}`` (from
``bot/policy/landlord.py``), so that no page or email writes a number of its own.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bot.policy import landlord

#: The layout (``base.html``) and the error page (``pages/error.html``) every package extends.
SHARED_TEMPLATES = Path(__file__).parent / "web" / "templates"


class TemplateSet:
    """Templates looked up in ``folders`` in order (a package's own first, then the shared)."""

    def __init__(self, *folders: Path) -> None:
        self.folders = (*folders, SHARED_TEMPLATES)

    @cached_property
    def environment(self) -> Environment:
        environment = Environment(
            loader=FileSystemLoader(self.folders),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        environment.globals["landlord"] = landlord
        return environment

    def render(self, template: str, **context: object) -> str:
        return self.environment.get_template(template).render(**context)


#: Templates of the web edge alone (the error page of any request).
shared_templates = TemplateSet()
