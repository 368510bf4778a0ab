"""The action server as only Rasa may call it: rasa_sdk's app, on loopback, behind a shared secret.

``python -m bot.runner.action_server`` replaces ``python -m rasa_sdk --actions actions``, which
listens on every interface and runs any action for anyone: ``POST /webhook`` naming a verified
conversation and ``action_show_balance`` returned that tenant's balance (issue 9). Here:

- the server binds ``settings.actions_host`` (``ACTIONS_HOST``, 127.0.0.1 by default) and
  ``settings.actions_port``;
- every route but ``/health``, ``/ready`` and ``/metrics`` answers 401 unless the request
  carries ``Authorization: Bearer <ACTION_SERVER_TOKEN>``, which Rasa sends because
  ``endpoints.yml`` lists that header under ``action_endpoint``; ``/ready`` (the portal
  answers) reveals nothing, and ``/metrics`` checks the rule every process applies to it
  (``bot.observability.metrics``: the service token in production), ``bot.runner.action_probes``;
- in production each log record is one JSON line (``bot.observability.json_logs``);
- no CORS origin is allowed (rasa_sdk's default is ``*``): no browser has anything to do here;
- the domain comes from ``domain.yml``, read once at start: Rasa does not send its 100 kB
  domain with every action call (``enable_selective_domain`` in ``endpoints.yml``, and the
  form validations, to which Rasa sends it by default, marked ``send_domain: false`` in
  ``domain.yml``), which cost both processes a JSON encoding and decoding per call.
  Rasa's training adds only intent and action names to that file's domain; no action reads
  them. A call that carries a domain keeps its own.

This module lives outside ``actions/`` because rasa_sdk imports every module of that package.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.observability.json_logs import install_json_logs
from bot.runner.action_probes import PROBE_PATHS, add_probes, portal_url
from bot.settings import PROJECT_ROOT, Settings

logger = logging.getLogger(__name__)

#: Routes without Rasa's secret: the health and readiness checks reveal nothing, and
#: ``/metrics`` checks its own token (``bot.runner.action_probes``).
OPEN_PATHS = frozenset({"/health"}) | PROBE_PATHS
ACTIONS_PACKAGE = "actions"


def bearer(token: str) -> str:
    """The ``Authorization`` value Rasa sends (``endpoints.yml``) and this server expects."""
    return f"Bearer {token}"


def is_authorized(header: str | None, token: str) -> bool:
    """Constant-time comparison, so the secret cannot be guessed byte by byte from timings."""
    return hmac.compare_digest((header or "").encode(), bearer(token).encode())


def require_token(app: Sanic, token: str) -> None:
    """Refuse every request but ``OPEN_PATHS`` without the shared secret, before any handler."""
    if not token:
        raise ValueError("an empty token would leave the action server open")

    async def check_token(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS or is_authorized(request.headers.get("Authorization"), token):
            return None
        logger.warning("action server: call without the shared secret refused (%s)", request.path)
        return response.json({"error": "unauthorized"}, status=401)

    app.register_middleware(check_token, "request")


def load_domain(path: Path = PROJECT_ROOT / "domain.yml") -> dict[str, Any]:
    """The domain as Rasa sends it to an action (``Domain.as_dict()``), read from ``path``."""
    from rasa.shared.core.domain import Domain

    return Domain.load(path).as_dict()


def supply_domain(app: Sanic, domain: dict[str, Any]) -> None:
    """Give ``domain`` to every action call that comes without one (see the module docstring)."""

    async def add_domain(request: Request) -> None:
        if request.method != "POST" or request.path != "/webhook":
            return
        if request.headers.get("Content-Encoding") == "deflate":
            return
        call = request.json
        if isinstance(call, dict) and "domain" not in call:
            call["domain"] = domain

    app.register_middleware(add_domain, "request")


def create_action_app(
    *,
    token: str,
    actions: str = ACTIONS_PACKAGE,
    domain: dict[str, Any] | None = None,
    settings: Settings | None = None,
) -> Sanic:
    """rasa_sdk's own app (its routes, executor and error handler) behind :func:`require_token`,
    given ``domain`` for the calls that come without one, with ``/ready`` and ``/metrics``
    (``settings``: the environment's by default)."""
    from rasa_sdk.endpoint import create_app

    settings = settings or Settings.from_env()
    app = create_app(actions, cors_origins=None)
    require_token(app, token)
    add_probes(app, settings, portal_url(settings))
    if domain is not None:
        supply_domain(app, domain)
    return app


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", default=ACTIONS_PACKAGE, help="package of the actions")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if not settings.actions_token:
        raise SystemExit(
            "ACTION_SERVER_TOKEN est vide : le serveur d'actions refuse de démarrer sans secret."
        )

    from rasa_sdk import utils
    from rasa_sdk.plugin import plugin_manager

    utils.configure_colored_logging(os.environ.get("LOG_LEVEL", "INFO"))
    utils.update_sanic_log_level()
    # Before the actions are registered, which logs: every line of the process is JSON.
    install_json_logs(settings.env)
    app = create_action_app(
        token=settings.actions_token, actions=args.actions, domain=load_domain(), settings=settings
    )
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    logger.info(
        "action server on http://%s:%s (shared secret required)",
        settings.actions_host,
        settings.actions_port,
    )
    app.run(
        settings.actions_host,
        settings.actions_port,
        workers=utils.number_of_sanic_workers(),
        access_log=False,
    )


if __name__ == "__main__":
    main()
