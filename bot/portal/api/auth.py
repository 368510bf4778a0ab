"""Service-token authentication of the action server's calls."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from functools import wraps

from sanic import Request
from sanic.response import HTTPResponse
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import NotAuthenticated
from bot.portal.models import ConversationGrant
from bot.portal.services.verification import current_grant

Handler = Callable[..., Awaitable[HTTPResponse]]


def service_token_required(handler: Handler) -> Handler:
    @wraps(handler)
    async def wrapper(request: Request, *args: object, **kwargs: object) -> HTTPResponse:
        expected = request.app.ctx.settings.service_token
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not given or not hmac.compare_digest(given.encode(), expected.encode()):
            raise NotAuthenticated(variant="service_token")
        return await handler(request, *args, **kwargs)

    return wrapper


async def verified_grant(request: Request, session: AsyncSession) -> ConversationGrant:
    """The live grant of the conversation named in ``X-Conversation-Id`` (else 401)."""
    conversation = request.headers.get("x-conversation-id", "")[:255]
    return await current_grant(session=session, conversation_id=conversation)
