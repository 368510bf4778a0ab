"""What the three processes share about ``GET /metrics``: who may read it, how it is served,
and how label values stay bounded.

**Access.** In development and tests ``/metrics`` is open (loopback services, no secrets in
it). In production every process answers it only to ``Authorization: Bearer <METRICS_TOKEN>``,
a token that opens nothing else, so the scraper never holds the service token; without
``METRICS_TOKEN``, to ``PORTAL_SERVICE_TOKEN``, the secret the processes already share. One
rule, one secret for the scraper, whatever address a process binds.

**Labels.** Prometheus keeps one series per label value: a value taken from a request (a
raw path, a channel name a client may send, a sender id) would let anyone grow the server's
memory without bound. Values go through :func:`bounded` against a known set.
"""

from __future__ import annotations

import hmac
from collections.abc import Collection

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    GCCollector,
    ProcessCollector,
    generate_latest,
)
from sanic import Request
from sanic.response import HTTPResponse, json, raw

from bot.settings import Settings

#: The label value of anything outside the known set.
OTHER = "other"

#: Latency buckets in seconds: a chat turn or an API call is expected well under a second;
#: the action server's portal calls time out after 8 s.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def new_registry() -> CollectorRegistry:
    """A registry of our own (several portals may run in one test process), with the
    process's CPU, memory and garbage-collector metrics."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def bounded(value: object, allowed: Collection[str]) -> str:
    """``value`` when it is one of ``allowed``, else :data:`OTHER`."""
    return value if isinstance(value, str) and value in allowed else OTHER


def metrics_allowed(request: Request, settings: Settings) -> bool:
    """Open in development; in production only with the metrics token, or the service token
    when there is none (constant time)."""
    if settings.is_development:
        return True
    token = settings.metrics_token or settings.service_token
    given = request.headers.get("authorization", "")
    return bool(token) and hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


def metrics_response(
    request: Request, settings: Settings, registry: CollectorRegistry
) -> HTTPResponse:
    """The text exposition of ``registry``, or 401 (see the module docstring)."""
    if not metrics_allowed(request, settings):
        return json({"error": "unauthorized"}, status=401)
    return raw(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
