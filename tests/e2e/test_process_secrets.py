"""End-to-end, as another local user or another website: the running stack shows no secret on
a command line and lets only the portal's pages call Rasa from a browser (issue 9, low findings).

Before: ``ps`` showed Rasa's ``--auth-token <token>``, and Rasa ran with ``--cors "*"``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import Assistant

pytestmark = pytest.mark.e2e


def command_line(assistant: Assistant, name: str) -> str:
    assert assistant.stack is not None
    (process,) = [p for p in assistant.stack.supervisor.processes if p.name == name]
    return Path(f"/proc/{process.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def test_no_secret_is_visible_on_a_command_line(assistant: Assistant) -> None:
    settings = assistant.settings
    for name in ("portal", "actions", "rasa"):
        seen = command_line(assistant, name)
        assert settings.rasa_api_token not in seen and settings.actions_token not in seen
        assert "--auth-token" not in seen
    # Rasa's API still requires its token: it got it from the environment.
    status = f"{assistant.rasa}/status"
    assert assistant.http.get(status).status_code == 401
    assert assistant.http.get(status, params={"token": settings.rasa_api_token}).is_success


def test_only_the_portal_origin_may_call_rasa_from_a_browser(assistant: Assistant) -> None:
    handshake = f"{assistant.rasa}/socket.io/?EIO=4&transport=polling"
    portal = assistant.portal

    allowed = assistant.http.get(handshake, headers={"Origin": portal})
    foreign = assistant.http.get(handshake, headers={"Origin": "https://evil.example"})

    assert allowed.headers.get("access-control-allow-origin") == portal
    assert "access-control-allow-origin" not in foreign.headers
