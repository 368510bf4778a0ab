"""The one place where portal and console errors become HTTP statuses (JSON for the API,
pages for people); both packages' errors are in ``bot.errors``' hierarchy."""

from __future__ import annotations

import logging

from sanic import Request, Sanic
from sanic.exceptions import SanicException
from sanic.response import HTTPResponse, html, json

from bot import errors
from bot.templating import shared_templates

log = logging.getLogger(__name__)

STATUS_BY_ERROR: dict[type[errors.PortalError], int] = {
    errors.InvalidInput: 400,
    errors.NotAuthenticated: 401,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.TokenInvalid: 410,
    errors.RateLimited: 429,
}


def status_text(status: int) -> str:
    """What an HTTP status says when no error words it (``http.*`` in ``bot/errors_fr.yml``)."""
    texts = errors.catalogue()
    return texts.get(f"http.{status}", texts["http.other"])


def status_of(error: errors.PortalError) -> int:
    """The HTTP status of a portal error (the one mapping: pages use it too)."""
    return next((code for cls, code in STATUS_BY_ERROR.items() if isinstance(error, cls)), 400)


def _wants_json(request: Request) -> bool:
    return request.path.startswith(("/api/", "/dev/mailbox")) or (
        "text/html" not in request.headers.get("accept", "")
    )


def _respond(request: Request, status: int, code: str, message: str, field: str | None):
    if _wants_json(request):
        body: dict[str, object] = {"error": code, "message": message}
        if field:
            body["field"] = field
        return json(body, status=status)
    return html(
        shared_templates.render("pages/error.html", status=status, message=message), status=status
    )


def portal_error_response(request: Request, error: errors.PortalError) -> HTTPResponse:
    status = status_of(error)
    message = error.message or status_text(status)
    return _respond(request, status, error.code, message, error.field)


def framework_error_response(request: Request, error: Exception) -> HTTPResponse:
    status = error.status_code if isinstance(error, SanicException) else 500
    if status >= 500:
        log.exception("unhandled error on %s %s", request.method, request.path, exc_info=error)
    code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(status, "error")
    return _respond(request, status, code, status_text(status), None)


def register_error_handlers(app: Sanic) -> None:
    app.error_handler.add(errors.PortalError, portal_error_response)
    app.error_handler.add(SanicException, framework_error_response)
    app.error_handler.add(Exception, framework_error_response)
