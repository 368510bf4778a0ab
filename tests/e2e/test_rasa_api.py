"""Rasa's HTTP API (conversations, events: what the staff console uses to take over) answers only
with the API token; the tenant-facing webhooks need none."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Assistant

pytestmark = pytest.mark.e2e


def test_the_conversations_api_needs_the_token(assistant: Assistant):
    path = f"{assistant.rasa}/conversations/e2e-api-check/tracker"
    assert assistant.http.get(path).status_code == 401
    assert assistant.http.get(path, params={"token": "wrong"}).status_code == 401
    allowed = assistant.http.get(path, params={"token": assistant.settings.rasa_api_token})
    assert allowed.status_code == 200
    assert assistant.say(f"e2e-api-{id(path)}", "bonjour")  # the webhook needs no token
