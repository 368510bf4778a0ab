"""Settings fail closed (issue 9, finding 3).

Before: ``Production``, ``PRODUCTION`` and ``prod`` ran as development (dev tokens accepted,
``/dev/mailbox`` listing every code and link, the payment sandbox on), and production started
with the development action-server token and data key.
"""

from __future__ import annotations

import pytest

from bot.settings import DEV_DATA_KEY, ENVIRONMENTS, Settings

#: Every variable production must be given, with a value that is not a development default.
PRODUCTION = {
    "ASSISTANT_ENV": "production",
    "PORTAL_SERVICE_TOKEN": "a-real-service-token",
    "PORTAL_SECRET_KEY": "a-real-secret-key",
    "RASA_API_TOKEN": "a-real-rasa-token",
    "ACTION_SERVER_TOKEN": "a-real-actions-token",
    "DATA_ENCRYPTION_KEY": "cmVhbC1kYXRhLWtleS1mb3ItdGhlLXRlc3RzLW9ubHk=",
    "SYSTEMPAY_KEY": "a-real-shop-key",
    "SYSTEMPAY_URL": "https://paiement.systempay.fr/vads-payment/",
    "CREDITOR_IDENTIFIER": "FR12ZZZ123456",
    "PORTAL_PUBLIC_URL": "https://portail.example.org",
    "SMTP_HOST": "relay.example.org",
}


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


@pytest.mark.parametrize(
    "spelling", ["Production", "PRODUCTION", "prod", "production ", "dev", "staging", "Test"]
)
def test_an_unknown_environment_is_refused_at_start(monkeypatch, spelling):
    monkeypatch.setenv("ASSISTANT_ENV", spelling)
    with pytest.raises(RuntimeError, match="ASSISTANT_ENV must be one of"):
        Settings.from_env()


@pytest.mark.parametrize("spelling", ["Production", "prod"])
def test_an_unknown_environment_is_refused_when_built_in_code_too(spelling):
    with pytest.raises(RuntimeError, match="ASSISTANT_ENV"):
        Settings(env=spelling)


def test_the_three_environments_are_accepted(production):
    assert ENVIRONMENTS == ("development", "test", "production")
    assert not Settings.from_env().is_development
    for env in ("development", "test"):
        production.setenv("ASSISTANT_ENV", env)
        assert Settings.from_env().is_development


def test_production_with_every_setting_given_starts(production):
    settings = Settings.from_env()
    assert settings.env == "production"
    assert settings.actions_token == "a-real-actions-token"
    assert settings.data_encryption_key != DEV_DATA_KEY


@pytest.mark.parametrize("name", sorted(set(PRODUCTION) - {"ASSISTANT_ENV"}))
def test_production_refuses_each_development_default(production, name):
    production.delenv(name)
    with pytest.raises(RuntimeError, match=name):
        Settings.from_env()


def test_production_names_every_missing_setting_at_once(monkeypatch):
    monkeypatch.setenv("ASSISTANT_ENV", "production")
    for name in set(PRODUCTION) - {"ASSISTANT_ENV"}:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError) as refused:
        Settings.from_env()
    for name in set(PRODUCTION) - {"ASSISTANT_ENV"}:
        assert name in str(refused.value)


@pytest.mark.parametrize(
    "value",
    [
        "dev-actions-token-not-for-production",
        "dev-rasa-api-token-not-for-production",
    ],
)
def test_production_refuses_a_development_value_typed_explicitly(production, value):
    production.setenv("ACTION_SERVER_TOKEN", value)
    production.setenv("RASA_API_TOKEN", value)
    with pytest.raises(RuntimeError, match="Production settings must be set"):
        Settings.from_env()


def test_production_refuses_a_data_key_that_is_no_fernet_key(production):
    production.setenv("DATA_ENCRYPTION_KEY", "not-a-key")
    with pytest.raises(RuntimeError, match="Fernet"):
        Settings.from_env()


def test_the_run_command_refuses_an_unknown_environment_in_one_line(monkeypatch, capsys):
    from bot.cli import main

    monkeypatch.setenv("ASSISTANT_ENV", "Production")
    assert main(["run", "--no-train"]) == 2
    error = capsys.readouterr().err
    assert "ASSISTANT_ENV must be one of development, test, production" in error
    assert "Traceback" not in error


def test_the_readme_documents_every_variable_the_settings_read():
    from bot.settings import PROJECT_ROOT

    read = set(Settings.variables().values())
    readme = (PROJECT_ROOT / "README.md").read_text()
    undocumented = sorted(name for name in read if f"`{name}`" not in readme)
    assert len(read) > 30
    assert undocumented == []
