"""The action server answers only Rasa: the shared secret on every call, loopback by default.

Before (issue 9): ``python -m rasa_sdk`` listened on every interface and ran any action for
anyone who posted to ``/webhook``. Here ``python -m bot.runner.action_server`` runs with a tiny
actions package of its own, as the stack starts it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import rasa_sdk

from bot.runner.action_server import is_authorized
from bot.settings import PROJECT_ROOT
from tests.runner.test_runner_supervisor import free_port

TOKEN = "secret-partage-de-test"

ACTIONS = """
from rasa_sdk import Action


class ActionEcho(Action):
    def name(self) -> str:
        return "action_echo"

    async def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(text="action exécutée")
        return []


class ActionListForms(Action):
    def name(self) -> str:
        return "action_list_forms"

    async def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(text=",".join(sorted(domain.get("forms", {}))))
        return []
"""

CALL = {
    "next_action": "action_echo",
    "sender_id": "socketio:abc",
    "tracker": {
        "sender_id": "socketio:abc",
        "slots": {},
        "latest_message": {"text": "bonjour", "intent": {"name": "greet"}},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    },
    "domain": {},
    "version": rasa_sdk.__version__,
}


@dataclass
class ActionServer:
    url: str
    port: int
    http: httpx.Client


@pytest.fixture(scope="module")
def action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ActionServer]:
    root = tmp_path_factory.mktemp("action-server")
    (root / "echo_actions").mkdir()
    (root / "echo_actions" / "__init__.py").write_text(textwrap.dedent(ACTIONS))
    port = free_port()
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("ACTIONS_HOST", "SANIC_HOST", "ASSISTANT_ENV")
    }
    env |= {
        "ACTIONS_PORT": str(port),
        "ACTION_SERVER_TOKEN": TOKEN,
        "ASSISTANT_VAR_DIR": str(root / "var"),
        "PYTHONPATH": os.pathsep.join((str(root), str(PROJECT_ROOT))),
    }
    log = (root / "actions.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "bot.runner.action_server", "--actions", "echo_actions"],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=10, trust_env=False) as http:
            wait_for_health(http, server, root / "actions.log")
            yield ActionServer(url=url, port=port, http=http)
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def wait_for_health(http: httpx.Client, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()
        try:
            if http.get("/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the action server never answered:\n{log.read_text()}")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": TOKEN},  # the secret, but not as Rasa sends it
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
    ],
    ids=["no header", "wrong token", "no Bearer", "longer", "shorter"],
)
def test_a_call_without_the_secret_runs_nothing(
    action_server: ActionServer, headers: dict[str, str]
) -> None:
    for method, path in (("POST", "/webhook"), ("GET", "/actions")):
        answer = action_server.http.request(method, path, json=CALL, headers=headers)
        assert answer.status_code == 401
        assert "action" not in answer.text  # neither a result nor the list of actions


def test_the_secret_runs_the_action(action_server: ActionServer) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}

    ran = action_server.http.post("/webhook", json=CALL, headers=headers)
    listed = action_server.http.get("/actions", headers=headers)

    assert ran.status_code == 200
    assert [message["text"] for message in ran.json()["responses"]] == ["action exécutée"]
    assert listed.json() == [{"name": "action_echo"}, {"name": "action_list_forms"}]


def forms_seen_by_the_action(action_server: ActionServer, call: dict) -> str:
    answer = action_server.http.post(
        "/webhook",
        json={**call, "next_action": "action_list_forms"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["responses"][0]["text"]


def test_a_call_without_domain_gets_the_projects_domain(action_server: ActionServer) -> None:
    """Rasa sends no domain (``enable_selective_domain``): the actions read domain.yml's."""
    without_domain = {key: value for key, value in CALL.items() if key != "domain"}

    forms = forms_seen_by_the_action(action_server, without_domain).split(",")

    assert {"register_form", "forgot_password_form", "payment_form"} <= set(forms)
    assert forms_seen_by_the_action(action_server, CALL) == ""  # a call's own domain is kept


def test_rasa_sends_no_domain_to_the_action_server() -> None:
    import yaml
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.utils.endpoints import EndpointConfig

    endpoints = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text())
    endpoint = EndpointConfig.from_dict(endpoints["action_endpoint"])
    domain = Domain.load(PROJECT_ROOT / "domain.yml")
    action = RemoteAction("validate_register_form", endpoint)

    call = action._action_call_format(DialogueStateTracker("rest:x", domain.slots), domain)

    assert "domain" not in call


def test_health_needs_no_secret(action_server: ActionServer) -> None:
    assert action_server.http.get("/health").json() == {"status": "ok"}


def test_it_listens_on_loopback_only_by_default(action_server: ActionServer) -> None:
    assert listening_addresses(action_server.port) == {"127.0.0.1"}


def test_no_browser_origin_is_allowed(action_server: ActionServer) -> None:
    answer = action_server.http.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in answer.headers


def test_the_comparison_takes_the_header_as_rasa_sends_it() -> None:
    assert is_authorized(f"Bearer {TOKEN}", TOKEN)
    assert not is_authorized(None, TOKEN)
    assert not is_authorized("", TOKEN)
    assert not is_authorized(f"bearer {TOKEN}", TOKEN)


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the sockets listening on ``port`` (IPv4 and IPv6), from /proc."""
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:
                addresses.add(_address(address))
    return addresses


def _address(hex_address: str) -> str:
    raw = bytes.fromhex(hex_address)
    if len(raw) == 4:
        return ".".join(str(byte) for byte in reversed(raw))
    return "::" if not any(raw) else raw.hex()
