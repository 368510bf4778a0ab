"""Service-token authentication of the action server's calls."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from functools import wraps

from sanic import Request
from sanic.response import HTTPResponse

from bot.portal.errors import NotAuthenticated

Handler = Callable[..., Awaitable[HTTPResponse]]


def service_token_required(handler: Handler) -> Handler:
    @wraps(handler)
    async def wrapper(request: Request, *args: object, **kwargs: object) -> HTTPResponse:
        expected = request.app.ctx.settings.service_token
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not given or not hmac.compare_digest(given.encode(), expected.encode()):
            raise NotAuthenticated("Jeton de service absent ou invalide.")
        return await handler(request, *args, **kwargs)

    return wrapper
