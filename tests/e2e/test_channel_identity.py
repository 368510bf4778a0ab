"""End-to-end, as an outsider who knows a verified tenant's conversation id: nobody acts in
someone else's conversation (issue 9, finding 1).

Before: a REST post to the sender id of a verified conversation got "412,50 € restent à payer";
a second socket.io client sending ``session_request`` with that session id received its replies
and could type into it; the action server answered ``POST /webhook`` from anyone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
import socketio

from tests.e2e.conftest import Assistant
from tests.e2e.test_account_flows import code_emails, emailed_code

pytestmark = pytest.mark.e2e

CLAIRE = "claire.dupont@example.org"
BALANCE = "412,50"


@dataclass
class WidgetTab:
    """A browser tab of the website widget, played with python-socketio (long-polling: the
    installed engine.io client's WebSocket needs a newer aiohttp than Rasa's)."""

    client: socketio.Client
    sessions: list[str] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)

    def wait(self, check: Callable[[], bool], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            assert time.monotonic() < deadline, "the assistant did not answer in time"
            time.sleep(0.05)

    def request_session(self, kept: object = None) -> str:
        before = len(self.sessions)
        self.client.emit("session_request", {"session_id": kept})
        self.wait(lambda: len(self.sessions) > before)
        return self.sessions[-1]

    def say(self, text: str, *, answers: int = 1, **extra: object) -> str:
        """Send ``text``; what the assistant answered (its first ``answers`` messages, at
        least, then whatever follows within a short quiet time)."""
        before = len(self.replies)
        self.client.emit("user_uttered", {"message": text, **extra})
        self.wait(lambda: len(self.replies) >= before + answers)
        time.sleep(1.0)
        return "\n".join(self.replies[before:])

    @property
    def conversation(self) -> str:
        return "socketio:" + self.sessions[-1].partition(".")[0]


@pytest.fixture
def tabs(assistant: Assistant) -> Iterator[Callable[[], WidgetTab]]:
    opened: list[WidgetTab] = []

    def open_tab() -> WidgetTab:
        client = socketio.Client()
        tab = WidgetTab(client)
        client.on("session_confirm", tab.sessions.append)
        client.on("bot_uttered", lambda message: tab.replies.append(message.get("text") or ""))
        client.connect(assistant.rasa, transports=["polling"], socketio_path="/socket.io")
        opened.append(tab)
        return tab

    yield open_tab
    for tab in opened:
        tab.client.disconnect()


def verified_tab(assistant: Assistant, open_tab: Callable[[], WidgetTab]) -> WidgetTab:
    """Claire, on the widget, verified by emailed code and shown her balance."""
    tenant = open_tab()
    tenant.request_session()
    seen = len(code_emails(assistant, CLAIRE))
    assert "vérifier" in tenant.say("combien je dois ?")
    assert "code à 6 chiffres" in tenant.say(CLAIRE)
    assert BALANCE in tenant.say(emailed_code(assistant, CLAIRE, seen=seen))
    return tenant


def test_a_rest_post_naming_a_verified_widget_conversation_sees_nothing_of_it(
    assistant: Assistant, tabs: Callable[[], WidgetTab]
) -> None:
    tenant = verified_tab(assistant, tabs)
    session_id = tenant.sessions[-1].partition(".")[0]

    for posted in (tenant.conversation, session_id, tenant.sessions[-1]):
        reply = assistant.say_text(posted, "combien je dois ?")
        assert BALANCE not in reply and "vérifier" in reply  # asked to verify, as a stranger
    # The tenant's own conversation saw none of it and is still verified.
    assert BALANCE in tenant.say("et maintenant combien je dois ?")


def test_a_second_widget_presenting_the_session_id_gets_a_conversation_of_its_own(
    assistant: Assistant, tabs: Callable[[], WidgetTab]
) -> None:
    tenant = verified_tab(assistant, tabs)
    session = tenant.sessions[-1]
    session_id = session.partition(".")[0]
    heard_before = len(tenant.replies)

    for presented in (session_id, tenant.conversation, session_id + ".forged-signature"):
        attacker = tabs()
        assert attacker.request_session(presented) != session
        reply = attacker.say("combien je dois ?", session_id=session)
        assert BALANCE not in reply and "vérifier" in reply
        assert attacker.conversation != tenant.conversation

    time.sleep(1.0)
    assert tenant.replies[heard_before:] == []  # nothing of the attackers' turns reached Claire
    # A reload of Claire's own page (her browser kept the signed session) continues it.
    reloaded = tabs()
    assert reloaded.request_session(session) == session
    assert BALANCE in reloaded.say("combien je dois ?")


def test_the_action_server_runs_nothing_for_a_caller_without_the_secret(
    assistant: Assistant, tabs: Callable[[], WidgetTab]
) -> None:
    tenant = verified_tab(assistant, tabs)
    call = {
        "next_action": "action_show_balance",
        "sender_id": tenant.conversation,
        "tracker": {
            "sender_id": tenant.conversation,
            "slots": {"verified": True},
            "latest_message": {"text": "combien je dois ?", "intent": {"name": "check_balance"}},
            "events": [{"event": "user", "text": "combien", "input_channel": "socketio"}],
            "latest_input_channel": "socketio",
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
        "domain": {},
        "version": "3.6.21",
    }
    url = f"http://127.0.0.1:{assistant.settings.actions_port}/webhook"

    for headers in ({}, {"Authorization": "Bearer wrong"}):
        answer = assistant.http.post(url, json=call, headers=headers)
        assert answer.status_code in (401, 403)
        assert BALANCE not in answer.text
