"""What every channel's webhook blueprint shares: its health route, and the callback Rasa
gives it to hand a message to the agent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

#: What Rasa gives a channel's blueprint: hands one message to the agent.
OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def webhook_blueprint(name: str) -> Blueprint:
    """A channel's blueprint with its health route (``GET /webhooks/<channel>/``)."""
    blueprint = Blueprint(name)

    @blueprint.route("/", methods=["GET"])
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    return blueprint
