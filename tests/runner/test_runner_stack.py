"""The stack's wiring (environment, ports, URLs), checked without starting Rasa."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.runner import PortInUse, Stack, build_specs, service_urls, settings_env
from bot.settings import PROJECT_ROOT, Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        var_dir=tmp_path / "var",
        portal_port=18000,
        public_base_url="http://localhost:18000",
        rasa_port=15005,
        actions_port=15055,
        smtp_port=18025,
        service_token="jeton-de-test",
    )


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_children_rebuild_the_same_settings_from_their_environment(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in settings_env(settings).items():
        monkeypatch.setenv(name, value)

    assert Settings.from_env() == settings


def test_specs_wire_ports_endpoints_and_logs_under_var_dir(settings: Settings) -> None:
    portal, actions, rasa = build_specs(settings, PROJECT_ROOT, rasa_timeout=42)

    assert [spec.port for spec in (portal, actions, rasa)] == [18000, 15055, 15005]
    assert [spec.port_env_var for spec in (portal, actions, rasa)] == [
        "PORTAL_PORT",
        "ACTIONS_PORT",
        "RASA_PORT",
    ]
    assert portal.health_url == "http://127.0.0.1:18000/health"
    assert actions.health_url == "http://127.0.0.1:15055/health"
    assert rasa.health_url == "http://127.0.0.1:15005/"
    assert rasa.startup_timeout == 42
    assert rasa.log_path == settings.var_dir / "logs" / "rasa.log"
    assert rasa.env["ACTION_ENDPOINT_URL"] == "http://127.0.0.1:15055/webhook"
    assert rasa.env["RASA_TRACKER_DB"] == str(settings.var_dir / "tracker.db")
    assert actions.env["PORTAL_URL"] == "http://127.0.0.1:18000"
    assert actions.env["PORTAL_SERVICE_TOKEN"] == "jeton-de-test"
    assert {"--port", "15005", "--enable-api", "--model", "models/"} <= set(rasa.argv)
    assert all(spec.cwd == PROJECT_ROOT for spec in (portal, actions, rasa))


def test_urls_show_the_dev_mailbox_only_in_development(settings: Settings) -> None:
    development = dict(service_urls(settings))
    production = dict(service_urls(settings.with_overrides(env="production")))

    assert development["Boîte mail (dév.)"] == "http://localhost:18000/dev/mailbox"
    assert development["Webhook REST Rasa"] == "http://localhost:15005/webhooks/rest/webhook"
    assert "Boîte mail (dév.)" not in production
    assert production["Portail"] == "http://localhost:18000/"


def test_taken_smtp_port_is_reported_before_training(
    settings: Settings, taken_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.runner.stack as stack_module

    def no_training(*_: object, **__: object) -> None:
        raise AssertionError("training must not start when a port is taken")

    monkeypatch.setattr(stack_module, "ensure_model", no_training)
    stack = Stack(settings.with_overrides(smtp_port=taken_port), echo=lambda _: None)

    with pytest.raises(PortInUse, match="SMTP_PORT") as caught:
        stack.start()

    assert "le serveur SMTP de développement" in str(caught.value)
    assert stack.supervisor.processes == []


def test_tracker_store_defaults_to_sqlite_in_var_dir(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RASA_TRACKER_DIALECT", raising=False)

    (rasa_spec,) = [spec for spec in build_specs(settings) if spec.name == "rasa"]

    assert rasa_spec.env["RASA_TRACKER_DIALECT"] == "sqlite"
    assert rasa_spec.env["RASA_TRACKER_HOST"] == ""
    assert rasa_spec.env["RASA_TRACKER_DB"] == str(settings.var_dir / "tracker.db")


def test_configured_tracker_store_is_passed_through(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RASA_TRACKER_DIALECT", "postgresql")
    monkeypatch.setenv("RASA_TRACKER_HOST", "db.internal:5432")
    monkeypatch.setenv("RASA_TRACKER_DB", "tracker")

    (rasa_spec,) = [spec for spec in build_specs(settings) if spec.name == "rasa"]

    assert rasa_spec.env["RASA_TRACKER_DIALECT"] == "postgresql"
    assert rasa_spec.env["RASA_TRACKER_HOST"] == "db.internal:5432"
    assert rasa_spec.env["RASA_TRACKER_DB"] == "tracker"
