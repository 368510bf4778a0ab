"""End-to-end: the logged-in page's widget token verifies the first conversation that sends it;
the same token sent again, from another conversation, verifies nothing (issue 9: the token was
neither single-use nor bound to a conversation)."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import Assistant
from tests.e2e.test_tenant_page import CLAIRE, PASSWORD, choose_password, logged_in_page, sender

pytestmark = pytest.mark.e2e


def test_a_replayed_widget_token_verifies_nothing(assistant: Assistant):
    choose_password(assistant, CLAIRE, PASSWORD)
    page = logged_in_page(assistant, CLAIRE, PASSWORD)
    token = re.search(r'data-session-token="([^"]+)"', page).group(1)

    tenant = assistant.say_text(sender(), "combien je dois ?", metadata={"session_token": token})
    thief = assistant.say_text(sender(), "combien je dois ?", metadata={"session_token": token})

    assert "412,50" in tenant
    assert "vérifier" in thief and "412,50" not in thief
