"""The production run's wiring, checked without starting anything: topology variables, secrets
file, nginx configuration, process specs (tests/runner/test_run_production.py starts it)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.cli import build_parser
from bot.runner.databases import PostgresServer, redacted
from bot.runner.errors import RunnerError
from bot.runner.nginx import HEALTH_PATH, render_config
from bot.runner.production import Topology, build_production_specs, production_environment
from bot.runner.production_env import (
    GENERATED,
    SYSTEMPAY_TEST_URL,
    creditor_identifier,
    production_secrets,
    read_env_file,
)
from bot.settings import DEV_CREDITOR_IDENTIFIER, PROJECT_ROOT, Settings


@pytest.fixture
def topology(tmp_path: Path) -> Topology:
    return Topology(var_dir=tmp_path / "production")


def test_topology_defaults_and_overrides() -> None:
    default = Topology.from_env({}, PROJECT_ROOT)
    assert default.var_dir == PROJECT_ROOT / "var" / "production"
    assert (default.portal_port, default.rasa_port, default.actions_port) == (8080, 5005, 5055)
    assert default.portal_ports == (8001, 8002)
    assert default.rasa_ports == (5006, 5007)

    custom = Topology.from_env(
        {
            "PRODUCTION_VAR_DIR": "/srv/x",
            "PRODUCTION_PORTAL_BACKENDS": "9001, 9002,9003",
            "PRODUCTION_RASA_PORT": "6005",
            "PRODUCTION_POSTGRES_URL": "postgresql://app:secret@db.example:6543/admin",
            "PRODUCTION_REDIS_URL": "redis://cache:6380/2",
            "PRODUCTION_REDIS_PREFIX": "staging1",
        },
        PROJECT_ROOT,
    )
    assert custom.var_dir == Path("/srv/x")
    assert custom.portal_ports == (9001, 9002, 9003)
    assert custom.rasa_port == 6005
    assert custom.postgres == PostgresServer("app:secret@db.example:6543", "admin")
    assert custom.redis_url == "redis://cache:6380/2"


@pytest.mark.parametrize(
    "variable, value",
    [
        ("PRODUCTION_PORTAL_BACKENDS", "8001;8002"),
        ("PRODUCTION_RASA_PORT", "http"),
        ("PRODUCTION_REDIS_PREFIX", "tenant-assistant"),
        ("PRODUCTION_PORTAL_DB", "x; DROP DATABASE y"),
        ("PRODUCTION_POSTGRES_URL", "mysql://db"),
    ],
)
def test_topology_refuses_bad_values_in_french(variable: str, value: str) -> None:
    with pytest.raises(RunnerError) as refused:
        Topology.from_env({variable: value}, PROJECT_ROOT)
    assert any(word in str(refused.value) for word in ("doit", "seulement", "refusé"))


def test_postgres_urls_for_each_client() -> None:
    server = PostgresServer.from_url("postgresql+asyncpg://app:pw@db:5433")
    assert server.asyncpg_url("p") == "postgresql+asyncpg://app:pw@db:5433/p"
    assert server.rasa_url("t") == "postgresql://app:pw@db:5433/t"
    assert server.admin_database == "postgres"
    assert "pw" not in server.display
    assert redacted("redis://:pw@cache:6379/0") == "redis://:***@cache:6379/0"


def test_creditor_identifier_check_digits() -> None:
    # The development identifier, computed by hand: same digits.
    assert creditor_identifier("000000") == DEV_CREDITOR_IDENTIFIER
    assert creditor_identifier("123456") == "FR72ZZZ123456"


def test_secrets_made_once_private_then_reused_and_the_environment_wins(tmp_path: Path) -> None:
    path = tmp_path / "production.env"
    first = production_secrets(path, {})

    assert set(first) == set(GENERATED)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    Fernet(first["DATA_ENCRYPTION_KEY"].encode())
    assert first["SYSTEMPAY_URL"] == SYSTEMPAY_TEST_URL
    assert first["SYSTEMPAY_MODE"] == "TEST"
    assert first["CREDITOR_IDENTIFIER"] != DEV_CREDITOR_IDENTIFIER
    assert first["CREDITOR_IDENTIFIER"].startswith("FR") and len(first["CREDITOR_IDENTIFIER"]) == 13

    second = production_secrets(path, {"SYSTEMPAY_KEY": "cle-de-la-boutique"})
    assert second == {**first, "SYSTEMPAY_KEY": "cle-de-la-boutique"}
    # The operator's value is not copied to the file.
    assert read_env_file(path)["SYSTEMPAY_KEY"] == first["SYSTEMPAY_KEY"]


def test_a_secret_missing_from_an_older_file_is_added(tmp_path: Path) -> None:
    path = tmp_path / "production.env"
    path.write_text("# old\nPORTAL_SECRET_KEY=gardee\n")
    os.chmod(path, 0o644)

    values = production_secrets(path, {})

    assert values["PORTAL_SECRET_KEY"] == "gardee"
    assert read_env_file(path) == values
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_production_environment_passes_the_production_settings_check(
    topology: Topology,
) -> None:
    shared = production_environment(topology, {})
    settings = Settings.from_env(shared)

    assert settings.env == "production"
    assert settings.database_url == "postgresql+asyncpg://postgres@127.0.0.1:5432/tenant_portal"
    assert settings.tracker_database_url.endswith("/tenant_tracker")
    assert settings.public_base_url == "http://localhost:8080"
    assert settings.smtp_port == 2525
    assert settings.lock_store_redis_url == settings.channel_state_redis_url
    assert shared["RASA_TRACKER_HOST"] == "postgresql://postgres@127.0.0.1:5432/tenant_tracker"


def test_nginx_config_keeps_everything_under_its_prefix_and_sticks_rasa_clients(
    topology: Topology, tmp_path: Path
) -> None:
    conf = render_config(topology.nginx_site(5 * 1024 * 1024), tmp_path / "nginx")

    assert f"pid {tmp_path}/nginx/nginx.pid;" in conf
    directives = "\n".join(line for line in conf.splitlines() if not line.lstrip().startswith("#"))
    assert "/etc/nginx" not in directives and "/var/log" not in directives
    assert "server 127.0.0.1:8001;" in conf and "server 127.0.0.1:8002;" in conf
    assert "hash $remote_addr consistent;" in conf
    assert "proxy_set_header Upgrade $http_upgrade;" in conf
    assert "listen 127.0.0.1:5055;" in conf
    assert "client_body_buffer_size 1m;" in conf
    assert f"location = {HEALTH_PATH}" in conf
    assert "user " not in conf


def test_specs_two_of_each_behind_nginx(topology: Topology) -> None:
    shared = production_environment(topology, {})
    settings = Settings.from_env(shared)
    specs = build_production_specs(
        settings, topology, shared, PROJECT_ROOT, nginx_binary="/usr/sbin/nginx"
    )
    by_name = {spec.name: spec for spec in specs}

    assert list(by_name) == [
        "smtp-relay",
        "nginx",
        "portal-1",
        "portal-2",
        "actions-1",
        "actions-2",
        "rasa-1",
        "rasa-2",
    ]
    assert by_name["portal-2"].env["PORTAL_PORT"] == "8002"
    assert by_name["portal-2"].health_url == "http://127.0.0.1:8002/health"
    assert by_name["rasa-1"].env["RASA_PORT"] == "5006"
    assert {"--port", "5007"} <= set(by_name["rasa-2"].argv)
    # Reached through nginx only.
    assert by_name["rasa-2"].argv[-2:] == ("--interface", "127.0.0.1")
    assert by_name["rasa-1"].env["ACTION_ENDPOINT_URL"] == "http://127.0.0.1:5055/webhook"
    assert by_name["actions-1"].env["PORTAL_URL"] == "http://127.0.0.1:8080"
    assert by_name["actions-2"].env["ACTIONS_PORT"] == "5057"
    assert by_name["rasa-2"].env["RASA_TRACKER_DIALECT"] == "postgresql"
    assert by_name["nginx"].argv[-2:] == ("-g", "daemon off;")
    assert by_name["nginx"].health_url == f"http://127.0.0.1:8080{HEALTH_PATH}"
    for spec in specs:
        if spec.name != "nginx":
            assert spec.env["ASSISTANT_ENV"] == "production"
            assert spec.env["LOCK_STORE_KEY_PREFIX"] == "tenantassistant"


def test_run_production_options() -> None:
    args = build_parser().parse_args(["run-production", "--demo", "--timeout", "90"])
    assert (args.command, args.demo, args.train, args.timeout) == (
        "run-production",
        True,
        False,
        90.0,
    )


def test_a_real_smtp_relay_replaces_the_sink(tmp_path: Path) -> None:
    topology = Topology.from_env(
        {"PRODUCTION_VAR_DIR": str(tmp_path), "PRODUCTION_SMTP_RELAY": "smtp.example.org:587"},
        PROJECT_ROOT,
    )
    operator = {"SMTP_USERNAME": "assistant", "SMTP_PASSWORD": "s3cret", "SMTP_STARTTLS": "true"}
    shared = production_environment(topology, operator)
    settings = Settings.from_env(shared)
    specs = build_production_specs(
        settings, topology, shared, PROJECT_ROOT, nginx_binary="/usr/sbin/nginx"
    )

    assert "smtp-relay" not in {spec.name for spec in specs}
    assert (settings.smtp_host, settings.smtp_port) == ("smtp.example.org", 587)
    assert (settings.smtp_username, settings.smtp_starttls) == ("assistant", True)
    portal = next(spec for spec in specs if spec.name == "portal-1")
    assert portal.env["SMTP_HOST"] == "smtp.example.org"


@pytest.mark.parametrize("relay", ["smtp.example.org", "smtp.example.org:http", ":25"])
def test_a_relay_without_a_port_is_refused(tmp_path: Path, relay: str) -> None:
    with pytest.raises(RunnerError, match="PRODUCTION_SMTP_RELAY"):
        Topology.from_env({"PRODUCTION_SMTP_RELAY": relay}, tmp_path)
