"""nginx, when no Rasa server answers, gives the tenant the domain's "service unavailable"
message in the REST channel's format instead of its own HTML error page (issue 12)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.dialogue.default_texts import domain_default_text
from bot.runner.nginx import NginxSite, find_nginx, nginx_spec
from bot.runner.ports import free_port
from bot.runner.supervisor import Supervisor
from tests.runner.test_run_production import nginx_or_skip


@pytest.fixture
def nginx_without_rasa(tmp_path: Path) -> Iterator[int]:
    """nginx in front of a Rasa port nobody listens on; nginx's Rasa port."""
    nginx_or_skip()
    site = NginxSite(
        listen_host="127.0.0.1",
        portal_port=free_port(),
        rasa_port=free_port(),
        actions_port=free_port(),
        portal_ports=(free_port(),),
        rasa_ports=(free_port(),),
        actions_ports=(free_port(),),
        max_body_bytes=1024 * 1024,
    )
    spec = nginx_spec(site, tmp_path / "nginx", binary=find_nginx() or "", log_dir=tmp_path)
    with Supervisor([spec], echo=lambda *_: None):
        yield site.rasa_port


def test_a_tenant_message_with_no_rasa_server_gets_the_unavailable_message(
    nginx_without_rasa: int,
) -> None:
    rasa_port = nginx_without_rasa
    with httpx.Client(trust_env=False, timeout=30) as http:
        reply = http.post(
            f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook",
            json={"sender": "a", "message": "bonjour"},
        )
        other = http.get(f"http://127.0.0.1:{rasa_port}/status")

    assert reply.status_code == 503
    assert reply.headers["content-type"] == "application/json"
    assert reply.json() == [{"text": domain_default_text("utter_service_unavailable")}]
    assert "momentanément indisponible" in reply.json()[0]["text"]
    # The HTTP API and socket.io get the same body rather than an HTML page.
    assert other.status_code == 503 and other.json() == reply.json()
