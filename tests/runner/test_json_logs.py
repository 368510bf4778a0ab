"""JSON log lines in production, redacted like every other log line.

First the formatter on a logger of the test's own, then the action server as the stack starts
it in production: every line it writes is JSON, no IBAN, code or token in any of them, its
``/metrics`` refused without the service token and ``/ready`` refused while no portal answers.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.observability.json_logs import install_json_logs
from bot.privacy.logging import install_log_redaction, uninstall_log_redaction
from bot.settings import PROJECT_ROOT
from tests.runner.test_runner_action_server import ACTIONS, wait_for_health
from tests.runner.test_runner_supervisor import free_port

IBAN = "FR7630006000011234567890189"
SPACED_IBAN = "FR76 3000 6000 0112 3456 7890 189"
CODE = "482913"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0ZW5hbnQifQ.c2lnbmF0dXJlLXNlY3JldA"
SECRETS = (IBAN, SPACED_IBAN, CODE, TOKEN, "30006000011234567890189")


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


@pytest.fixture
def json_logger() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger of its own with a text handler, made JSON as production makes its handlers."""
    stream = io.StringIO()
    logger = logging.getLogger("tests.json_logs")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    root_handlers = list(logging.getLogger().handlers)
    install_log_redaction()
    yield logger, stream
    logger.removeHandler(handler)
    uninstall_log_redaction()
    logging.captureWarnings(False)
    for added in set(logging.getLogger().handlers) - set(root_handlers):
        logging.getLogger().removeHandler(added)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_production_logs_are_json_lines_without_secrets(
    json_logger: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = json_logger
    assert install_json_logs("production", logger_names=("tests.json_logs",))

    logger.info("IBAN reçu %s, code %s", IBAN, CODE)
    logger.warning("Authorization: Bearer %s", TOKEN)
    try:
        raise ValueError(f"refusé : {SPACED_IBAN} (code {CODE})")
    except ValueError:
        logger.exception("échec de l'action")

    records = lines(stream)
    assert [record["level"] for record in records] == ["info", "warning", "error"]
    assert {"event", "level", "logger", "timestamp"} <= set(records[0])
    assert records[0]["logger"] == "tests.json_logs"
    assert "[IBAN masqué]" in records[0]["event"] and "[code masqué]" in records[0]["event"]
    assert "Traceback" in records[2]["exception"] and "ValueError" in records[2]["exception"]
    assert_no_secret(stream.getvalue())


def test_other_environments_keep_plain_text(
    json_logger: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = json_logger
    for env in ("development", "test"):
        assert not install_json_logs(env, logger_names=("tests.json_logs",))

    logger.info("IBAN %s", IBAN)

    assert stream.getvalue() == "INFO IBAN [IBAN masqué]\n"


# --------------------------------------------------------------------------- a real process

SERVICE_TOKEN = "jeton-de-service-de-production-de-test"
PRODUCTION = {
    "ASSISTANT_ENV": "production",
    "PORTAL_SERVICE_TOKEN": SERVICE_TOKEN,
    "RASA_API_TOKEN": "jeton-rasa-de-test",
    "PORTAL_SECRET_KEY": "cle-secrete-de-test",
    "ACTION_SERVER_TOKEN": "secret-partage-de-test",
    "DATA_ENCRYPTION_KEY": "3q2-7zL0Qq1n8WkEUXb0ZK7p7nTq9r2yqZ2KQ7m3z0s=",
    "SYSTEMPAY_KEY": "cle-systempay-de-test",
    "SYSTEMPAY_URL": "https://paiement.example.org/",
    "CREDITOR_IDENTIFIER": "FR12ZZZ123456",
    "PORTAL_PUBLIC_URL": "https://portail.example.org",
    "SMTP_HOST": "127.0.0.1",
}


@pytest.fixture(scope="module")
def production_action_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """``python -m bot.runner.action_server`` in production, no portal behind it."""
    root = tmp_path_factory.mktemp("json-actions")
    (root / "json_echo_actions").mkdir()
    (root / "json_echo_actions" / "__init__.py").write_text(textwrap.dedent(ACTIONS))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("ACTIONS_HOST", "SANIC_HOST")}
    env |= PRODUCTION | {
        "ACTIONS_PORT": str(port),
        "ASSISTANT_VAR_DIR": str(root / "var"),
        "PORTAL_URL": f"http://127.0.0.1:{free_port()}",  # nobody listens there
        "PYTHONPATH": os.pathsep.join((str(root), str(PROJECT_ROOT))),
        "PYTHONUNBUFFERED": "1",
    }
    yield from served(
        [sys.executable, "-m", "bot.runner.action_server", "--actions", "json_echo_actions"],
        cwd=root,
        env=env,
        port=port,
        log_path=root / "actions.log",
    )


def served(
    command: list[str], *, cwd: Path, env: dict[str, str], port: int, log_path: Path
) -> Iterator[tuple[httpx.Client, Path]]:
    """``command`` running until the test module is done, once its ``/health`` answers."""
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=url, timeout=10, trust_env=False) as http:
                wait_for_health(http, server, log_path)
                yield http, log_path
        finally:
            server.terminate()
            server.wait(timeout=10)


def test_the_production_action_server_logs_json_lines_only(production_action_server: tuple) -> None:
    http, log_path = production_action_server
    # Refused without Rasa's secret: the warning names the path, which carries secrets here.
    assert http.post(f"/webhook/{IBAN}/{CODE}/{TOKEN}").status_code == 401

    deadline = time.monotonic() + 10
    while "webhook" not in log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    text = log_path.read_text()
    records = [json.loads(line) for line in text.splitlines() if line.strip()]

    assert records and all({"event", "level", "logger", "timestamp"} <= set(r) for r in records)
    assert any("webhook" in record["event"] for record in records)
    assert_no_secret(text)


def test_the_production_metrics_need_the_service_token(production_action_server: tuple) -> None:
    http, _log = production_action_server
    actions_secret = PRODUCTION["ACTION_SERVER_TOKEN"]

    for headers in ({}, {"Authorization": f"Bearer {actions_secret}"}, {"Authorization": "x"}):
        refused = http.get("/metrics", headers=headers)
        assert refused.status_code == 401
        assert "action_server" not in refused.text
    allowed = http.get("/metrics", headers={"Authorization": f"Bearer {SERVICE_TOKEN}"})

    assert allowed.status_code == 200
    assert (
        "action_server_action_runs_total" in allowed.text or "# HELP action_server" in allowed.text
    )


def test_actions_are_counted(production_action_server: tuple) -> None:
    from tests.runner.test_runner_action_server import CALL

    http, _log = production_action_server
    rasa = {"Authorization": f"Bearer {PRODUCTION['ACTION_SERVER_TOKEN']}"}
    scraper = {"Authorization": f"Bearer {SERVICE_TOKEN}"}

    assert http.post("/webhook", json=CALL, headers=rasa).status_code == 200
    unknown = http.post("/webhook", json={**CALL, "next_action": f"action_{IBAN}"}, headers=rasa)
    metrics = http.get("/metrics", headers=scraper).text

    assert unknown.status_code == 404
    assert 'action_server_action_runs_total{action="action_echo",outcome="success"} 1.0' in metrics
    assert 'action_server_action_runs_total{action="other",outcome="not_found"} 1.0' in metrics
    assert 'action_server_action_duration_seconds_count{action="action_echo"} 1.0' in metrics
    assert IBAN not in metrics


def test_the_production_action_server_is_not_ready_without_portal(
    production_action_server: tuple,
) -> None:
    http, _log = production_action_server

    answer = http.get("/ready")

    assert answer.status_code == 503
    assert answer.json() == {"status": "unavailable", "reason": "portal"}


@pytest.fixture(scope="module")
def production_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """``python -m bot.app`` in production on a SQLite file of its own."""
    root = tmp_path_factory.mktemp("json-portal")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PORTAL_DATABASE_URL"}
    env |= PRODUCTION | {
        "PORTAL_PORT": str(port),
        "ASSISTANT_VAR_DIR": str(root / "var"),
        "SMTP_PORT": str(free_port()),
        "PYTHONPATH": str(PROJECT_ROOT),
        "PYTHONUNBUFFERED": "1",
    }
    yield from served(
        [sys.executable, "-m", "bot.app"],
        cwd=PROJECT_ROOT,
        env=env,
        port=port,
        log_path=root / "portal.log",
    )


def test_the_production_portal_logs_json_lines_and_guards_its_metrics(
    production_portal: tuple,
) -> None:
    http, log_path = production_portal

    ready = http.get("/ready")
    refused = http.get("/metrics")
    allowed = http.get("/metrics", headers={"Authorization": f"Bearer {SERVICE_TOKEN}"})
    # Secrets in a request's path and query must not reach the log in clear either.
    http.get(f"/paiement/{TOKEN}", params={"iban": IBAN, "code": CODE})
    time.sleep(0.5)
    text = log_path.read_text()

    assert ready.json() == {"status": "ready"}
    assert refused.status_code == 401
    assert allowed.status_code == 200 and "portal_http_requests_total" in allowed.text
    records = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert records and all({"event", "level", "logger", "timestamp"} <= set(r) for r in records)
    assert_no_secret(text)
