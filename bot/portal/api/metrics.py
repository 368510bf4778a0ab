"""The portal's Prometheus metrics: its HTTP requests and the email outbox, at ``GET /metrics``.

- ``portal_http_requests_total{route, method, status}``: requests answered; ``route`` is the
  route's template (``/api/v1/payments/<reference:str>``), never the raw path, and
  ``unmatched`` for a path no route serves (a scanner's URLs must not create series);
- ``portal_http_request_duration_seconds{route, method}``: time from the first request
  middleware to the response;
- ``portal_outbox_pending`` and ``portal_outbox_abandoned``: emails waiting for delivery and
  emails given up on, read from the database when Prometheus scrapes (a stuck relay shows as
  a growing backlog even while no request comes in).

Each portal app has its own registry: tests run several portals in one process.
Access rule: ``bot.observability.metrics``.
"""

from __future__ import annotations

import logging
import math
import time

from prometheus_client import Counter, Gauge, Histogram
from sanic import Request, Sanic
from sanic.response import HTTPResponse

from bot.observability.metrics import (
    LATENCY_BUCKETS,
    bounded,
    metrics_allowed,
    metrics_response,
    new_registry,
)
from bot.portal.services.outbox import outbox_counts

log = logging.getLogger(__name__)

UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class PortalMetrics:
    """The portal's collectors, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = new_registry()
        self.requests = Counter(
            "portal_http_requests",
            "HTTP requests answered by the portal, by route template, method and status.",
            ("route", "method", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "portal_http_request_duration_seconds",
            "Time the portal took to answer, by route template and method.",
            ("route", "method"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.outbox_pending = Gauge(
            "portal_outbox_pending",
            "Queued emails not yet sent nor given up on (read at scrape time).",
            registry=self.registry,
        )
        self.outbox_abandoned = Gauge(
            "portal_outbox_abandoned",
            "Queued emails given up on after their retries (read at scrape time).",
            registry=self.registry,
        )


def route_label(request: Request) -> str:
    """The route's template, or ``unmatched``: bounded by the routes the portal defines."""
    return request.uri_template if request.route is not None else UNMATCHED


def install_metrics(app: Sanic) -> PortalMetrics:
    """Count every request of ``app`` and serve ``GET /metrics``."""
    metrics = PortalMetrics()
    app.ctx.metrics = metrics

    async def start_clock(request: Request) -> None:
        request.ctx.metrics_started = time.perf_counter()

    async def count_request(request: Request, response: HTTPResponse) -> None:
        started = getattr(request.ctx, "metrics_started", None)
        route, method = route_label(request), bounded(request.method, METHODS)
        metrics.requests.labels(route, method, str(response.status)).inc()
        if started is not None:
            metrics.latency.labels(route, method).observe(time.perf_counter() - started)

    # Registered before the portal's own request middleware, so their time is counted too.
    app.register_middleware(start_clock, "request")
    app.register_middleware(count_request, "response")

    @app.get("/metrics")
    async def prometheus_metrics(request: Request) -> HTTPResponse:
        settings = request.app.ctx.settings
        if metrics_allowed(request, settings):  # a refused scraper costs no query
            await read_outbox(request.app, metrics)
        return metrics_response(request, settings, metrics.registry)

    return metrics


async def read_outbox(app: Sanic, metrics: PortalMetrics) -> None:
    """Set the outbox gauges from the database; NaN when it does not answer, so that a stale
    backlog is never reported as current (``/ready`` says why)."""
    try:
        async with app.ctx.sessions() as session:
            counts = await outbox_counts(session)
    except Exception as error:  # noqa: BLE001 - the other metrics are still worth serving
        log.warning("metrics: outbox counts unavailable (%s)", type(error).__name__)
        metrics.outbox_pending.set(math.nan)
        metrics.outbox_abandoned.set(math.nan)
        return
    metrics.outbox_pending.set(counts.pending)
    metrics.outbox_abandoned.set(counts.abandoned)
