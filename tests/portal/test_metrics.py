"""The portal's ``GET /metrics``: requests by route template and status, latency, outbox backlog;
open in development, behind the service token in production."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import sessionmaker

from bot.portal.services.outbox import enqueue_email
from bot.settings import Settings
from tests.portal.support import Portal, running_portal

SERVICE_TOKEN = "jeton-de-service-prod"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of an exposition text, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape(portal: Portal, **headers: str) -> dict[tuple[str, frozenset], float]:
    response = await portal.client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


def requests_of(metrics: dict, route: str, method: str, status: str) -> float:
    labels = frozenset({("route", route), ("method", method), ("status", status)})
    return metrics.get(("portal_http_requests_total", labels), 0.0)


async def test_requests_are_counted_by_route_template_and_status(portal: Portal) -> None:
    before = await scrape(portal)

    accepted = await portal.api("/api/v1/password-resets", {"email": "nobody@example.org"})
    refused = await portal.client.post("/api/v1/password-resets", json={"email": "x@y.org"})
    missing = await portal.client.get("/no/such/page/FR7630006000011234567890189")
    after = await scrape(portal)

    assert (accepted.status_code, refused.status_code, missing.status_code) == (202, 401, 404)
    route = "/api/v1/password-resets"
    assert requests_of(after, route, "POST", "202") == requests_of(before, route, "POST", "202") + 1
    assert requests_of(after, route, "POST", "401") == requests_of(before, route, "POST", "401") + 1
    assert requests_of(after, "unmatched", "GET", "404") == 1
    latency = frozenset({("route", route), ("method", "POST")})
    assert after[("portal_http_request_duration_seconds_count", latency)] >= 2
    # Raw paths never become label values.
    assert "FR7630006000011234567890189" not in (await portal.client.get("/metrics")).text


async def test_route_parameters_stay_in_the_template(portal: Portal) -> None:
    await portal.client.get("/paiement/un-jeton-de-paiement-quelconque")

    text = (await portal.client.get("/metrics")).text

    assert "un-jeton-de-paiement-quelconque" not in text
    assert 'route="/paiement/<' in text


async def test_outbox_gauges_follow_the_queue(portal: Portal) -> None:
    # No SMTP server listens on settings.smtp_port: the email stays pending (retried later).
    before = await scrape(portal)
    async with portal.sessions() as session, session.begin():
        await enqueue_email(
            session=session, to="a@example.org", template="password_changed", portal_url="http://x"
        )

    after = await scrape(portal)

    pending = ("portal_outbox_pending", frozenset())
    assert after[pending] == before[pending] + 1
    assert after[("portal_outbox_abandoned", frozenset())] == 0


@pytest.fixture
async def production_portal(
    portal_settings: Settings,
    sessions: sessionmaker,
    portal_socket: socket.socket,
) -> AsyncIterator[Portal]:
    settings = portal_settings.with_overrides(env="production", service_token=SERVICE_TOKEN)
    async with running_portal(settings, portal_socket, sessions) as running:
        yield running


@pytest.mark.parametrize("portal_settings", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": SERVICE_TOKEN}],
    ids=["none", "wrong", "no-bearer"],
)
async def test_production_metrics_need_the_service_token(
    production_portal: Portal, headers: dict[str, str]
) -> None:
    refused = await production_portal.client.get("/metrics", headers=headers)

    assert refused.status_code == 401
    assert "portal_" not in refused.text


@pytest.mark.parametrize("portal_settings", ["sqlite"], indirect=True)
async def test_production_metrics_with_the_service_token(production_portal: Portal) -> None:
    answer = await production_portal.client.get(
        "/metrics", headers={"Authorization": f"Bearer {SERVICE_TOKEN}"}
    )

    assert answer.status_code == 200
    assert ("portal_outbox_pending", frozenset()) in samples(answer.text)


@pytest.mark.parametrize("portal_settings", ["sqlite"], indirect=True)
async def test_with_a_metrics_token_the_scraper_never_needs_the_service_token(
    portal_settings: Settings, sessions: sessionmaker, portal_socket: socket.socket
) -> None:
    settings = portal_settings.with_overrides(
        env="production", service_token=SERVICE_TOKEN, metrics_token="lecture-seule-metriques"
    )
    async with running_portal(settings, portal_socket, sessions) as portal:
        scraper = await portal.client.get(
            "/metrics", headers={"Authorization": "Bearer lecture-seule-metriques"}
        )
        service = await portal.client.get(
            "/metrics", headers={"Authorization": f"Bearer {SERVICE_TOKEN}"}
        )
        api = await portal.client.post(
            "/api/v1/identifier-reminders",
            json={"client_number": "12345678", "surname": "Martin"},
            headers={"Authorization": "Bearer lecture-seule-metriques"},
        )

    assert scraper.status_code == 200 and "portal_outbox_pending" in scraper.text
    assert service.status_code == 401
    # The metrics token opens nothing else.
    assert api.status_code == 401
