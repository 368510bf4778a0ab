"""How the stack starts Rasa and the action server: no secret on a command line, CORS only for
the portal's origin, the action server behind its secret on loopback (issue 9)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

from bot.runner import build_specs
from bot.runner.rasa_main import argv_with_token
from bot.runner.stack import origin_of, widget_origins
from bot.settings import PROJECT_ROOT, Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        var_dir=tmp_path / "var",
        portal_port=18000,
        public_base_url="https://locataires.example.org/espace",
        rasa_port=15005,
        actions_port=15055,
        rasa_api_token="jeton-api-rasa",
        actions_token="jeton-actions",
    )


def specs_by_name(settings: Settings) -> dict:
    return {spec.name: spec for spec in build_specs(settings, PROJECT_ROOT)}


def test_no_secret_is_on_a_command_line(settings: Settings) -> None:
    for spec in build_specs(settings, PROJECT_ROOT):
        command_line = " ".join(spec.argv)
        assert "jeton-api-rasa" not in command_line and "jeton-actions" not in command_line
        assert "--auth-token" not in spec.argv

    rasa = specs_by_name(settings)["rasa"]
    assert rasa.argv[:4] == (sys.executable, "-m", "bot.runner.rasa_main", "run")
    assert rasa.env["RASA_API_TOKEN"] == "jeton-api-rasa"


def test_rasa_gets_its_token_inside_the_process_right_after_run() -> None:
    argv = ["rasa_main.py", "run", "--enable-api", "--model", "models/"]

    assert argv_with_token(argv, {"RASA_API_TOKEN": "t0k"}) == [
        "rasa_main.py",
        *("run", "--auth-token=t0k", "--enable-api", "--model", "models/"),
    ]
    assert argv_with_token(["rasa_main.py", "train"], {"RASA_API_TOKEN": "t0k"}) == [
        "rasa_main.py",
        "train",
    ]


def test_a_token_that_starts_with_a_dash_still_reaches_rasa() -> None:
    # Seen in the scale-out bench: "-Xq…" taken as an option, Rasa exited with status 2.
    from rasa.cli.arguments.run import add_server_arguments

    parser = argparse.ArgumentParser()
    add_server_arguments(parser)
    argv = argv_with_token(["rasa_main.py", "run", "--enable-api"], {"RASA_API_TOKEN": "-Xq9"})

    assert parser.parse_args(argv[2:]).auth_token == "-Xq9"


def test_an_open_api_is_refused_without_a_token() -> None:
    with pytest.raises(SystemExit, match="RASA_API_TOKEN"):
        argv_with_token(["rasa_main.py", "run", "--enable-api"], {})
    assert argv_with_token(["rasa_main.py", "run"], {}) == ["rasa_main.py", "run"]


def test_cors_allows_the_portal_origin_only(settings: Settings) -> None:
    production = settings.with_overrides(env="production")
    rasa = specs_by_name(production)["rasa"]

    assert "*" not in rasa.argv
    cors = rasa.argv.index("--cors")
    assert rasa.argv[cors + 1 : cors + 3] == ("https://locataires.example.org", "--port")


def test_in_development_the_local_portal_is_allowed_under_both_names(settings: Settings) -> None:
    development = settings.with_overrides(public_base_url="http://localhost:18000")

    assert widget_origins(development) == ["http://localhost:18000", "http://127.0.0.1:18000"]


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://locataires.example.org/espace/?x=1", "https://locataires.example.org"),
        ("https://Locataires.Example.org:443/", "https://locataires.example.org"),
        ("http://localhost:8000", "http://localhost:8000"),
        ("http://example.org:80/", "http://example.org"),
        ("https://example.org:8443/a", "https://example.org:8443"),
        ("http://[::1]:8000/", "http://[::1]:8000"),
    ],
)
def test_origin_of(url: str, origin: str) -> None:
    assert origin_of(url) == origin


def test_the_action_server_binds_the_configured_host(settings: Settings) -> None:
    actions = specs_by_name(settings)["actions"]
    elsewhere = specs_by_name(settings.with_overrides(actions_host="10.0.0.5"))["actions"]

    assert Settings().actions_host == "127.0.0.1"
    assert actions.argv == (sys.executable, "-m", "bot.runner.action_server")
    assert (actions.bind_host, actions.health_url) == ("127.0.0.1", "http://127.0.0.1:15055/health")
    assert actions.env["ACTION_SERVER_TOKEN"] == "jeton-actions"
    assert (elsewhere.bind_host, elsewhere.health_url) == (
        "10.0.0.5",
        "http://10.0.0.5:15055/health",
    )


def test_rasa_sends_the_secret_to_the_action_server(monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.utils.endpoints import read_endpoint_config

    monkeypatch.setenv("ACTION_ENDPOINT_URL", "http://127.0.0.1:15055/webhook")
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "jeton-actions")
    for name in ("RASA_TRACKER_DIALECT", "RASA_TRACKER_HOST", "RASA_TRACKER_DB"):
        monkeypatch.setenv(name, "")

    endpoint = read_endpoint_config(str(PROJECT_ROOT / "endpoints.yml"), "action_endpoint")

    assert endpoint is not None
    assert endpoint.url == "http://127.0.0.1:15055/webhook"
    assert endpoint.headers == {"Authorization": "Bearer jeton-actions"}
