"""Cookies on responses and the double-submit CSRF cookie, for the portal's and the console's
pages; the values are signed by ``bot/portal/services/signing.py``."""

from __future__ import annotations

from sanic.response import HTTPResponse

from bot.portal.services.signing import new_csrf_secret

#: A CSRF cookie longer than this was not set by us: replace it rather than sign it.
CSRF_SECRET_MAX = 100


def set_cookie(
    response: HTTPResponse,
    name: str,
    value: str,
    attributes: dict[str, object],
    *,
    max_age: int | None,
) -> None:
    """Set cookie ``name`` on ``response`` (``max_age=0`` deletes it; ``None``: session cookie)."""
    response.cookies[name] = value
    for attribute, setting in attributes.items():
        response.cookies[name][attribute] = setting
    if max_age is not None:
        response.cookies[name]["max-age"] = max_age


def usable_csrf_secret(current: str) -> tuple[str, bool]:
    """The browser's CSRF secret, or a new one (then ``True``: the cookie must be set)."""
    if current and len(current) <= CSRF_SECRET_MAX:
        return current, False
    return new_csrf_secret(), True
