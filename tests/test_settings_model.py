"""Settings are declared once, in the model (issue 13: "each setting is written in three places").

The variable, the default and the description live on the field; ``from_env`` reads the
variables from there and the README's table is rendered from there, so a setting added without
a variable and a description, or a README edited by hand, fails here.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bot.settings import (
    _PRODUCTION_REQUIREMENTS,
    PROJECT_ROOT,
    Settings,
    SettingsError,
    settings_table,
)

#: Fields fixed in code, read from no variable; a new one joins this list deliberately.
FIXED_IN_CODE = {
    "outbox_poll_seconds",
    "activation_ttl_hours",
    "reset_ttl_minutes",
    "verification_code_minutes",
    "verification_max_attempts",
    "grant_minutes",
    "session_token_seconds",
}


def readme_settings_table() -> str:
    """The table under the README's "Settings (environment)" heading."""
    lines = (PROJECT_ROOT / "README.md").read_text().splitlines()
    start = lines.index("## Settings (environment)")
    table = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            table.append(line)
        elif table or line.startswith("#"):
            break
    return "\n".join(table) + "\n"


def test_the_readme_table_is_the_one_rendered_from_the_model():
    assert readme_settings_table() == settings_table(), (
        "README's settings table differs from the model: paste `python -m bot.settings` there"
    )


def test_every_setting_has_a_description_and_a_variable_or_is_fixed_in_code():
    undescribed = [name for name, f in Settings.__fields__.items() if not f.field_info.description]
    assert undescribed == []
    assert set(Settings.__fields__) - set(Settings.variables()) == FIXED_IN_CODE
    variables = list(Settings.variables().values())
    assert len(variables) == len(set(variables))


def test_production_requires_only_variables_the_model_reads():
    required = {name for name, _why, _still_default in _PRODUCTION_REQUIREMENTS}
    assert required <= set(Settings.variables().values())
    assert "**production**" in settings_table().split("`PORTAL_SECRET_KEY`")[1].splitlines()[0]


def test_building_reads_no_variable_and_from_env_reads_only_the_mapping_given(monkeypatch):
    monkeypatch.setenv("PORTAL_PORT", "9999")
    monkeypatch.setenv("SMTP_HOST", "relay.example.org")

    assert Settings().portal_port == 8000
    assert Settings(var_dir=Path("/tmp/x")).smtp_host == "127.0.0.1"
    assert Settings.from_env({}) == Settings()
    assert Settings.from_env().portal_port == 9999


def test_variables_are_converted_to_the_fields_types():
    settings = Settings.from_env(
        {
            "ASSISTANT_VAR_DIR": "/srv/assistant",
            "PORTAL_PORT": "9001",
            "PAYMENT_MAX_AMOUNT": "120.50",
            "LOCK_TICKET_SECONDS": "2.5",
            "SMTP_STARTTLS": "True",
            "SYSTEMPAY_MODE": "production",
        }
    )

    assert settings.var_dir == Path("/srv/assistant")
    assert settings.portal_port == 9001
    assert settings.payment_max_amount == Decimal("120.50")
    assert settings.lock_ticket_seconds == 2.5
    assert settings.smtp_starttls is True
    assert settings.systempay_mode == "PRODUCTION"


@pytest.mark.parametrize("value", ["1", "yes", "on", "false", "vrai"])
def test_only_true_turns_starttls_on(value):
    assert Settings.from_env({"SMTP_STARTTLS": value}).smtp_starttls is False


def test_an_empty_variable_means_the_default():
    given = {variable: "" for variable in Settings.variables().values()}
    assert Settings.from_env(given) == Settings()


def test_the_public_url_follows_the_port_and_the_tracker_follows_rasa():
    settings = Settings.from_env(
        {"PORTAL_PORT": "9001", "RASA_TRACKER_DIALECT": "sqlite", "RASA_TRACKER_DB": "/t.db"}
    )
    assert settings.public_base_url == "http://localhost:9001"
    assert settings.tracker_database_url == "sqlite+aiosqlite:////t.db"
    assert Settings(portal_port=9001).public_base_url == "http://localhost:8000"


def test_every_refused_variable_is_named_at_once_with_the_value_given():
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(
            {"PORTAL_PORT": "huit mille", "OUTBOX_CONCURRENCY": "0", "PAYMENT_MAX_AMOUNT": "x"}
        )

    assert str(refused.value) == (
        "PORTAL_PORT must be a whole number (got 'huit mille'); "
        "OUTBOX_CONCURRENCY must be a whole number, at least 1 (got '0'); "
        "PAYMENT_MAX_AMOUNT must be a number (got 'x')"
    )


def test_overrides_are_checked_like_new_settings_and_settings_never_change():
    settings = Settings()

    assert settings.with_overrides(portal_port="9001", systempay_mode="test").portal_port == 9001
    with pytest.raises(SettingsError, match="LOCK_TICKET_SECONDS must be between 1 and 600"):
        settings.with_overrides(lock_ticket_seconds=0)
    with pytest.raises(SettingsError, match="ASSISTANT_ENV must be one of"):
        settings.with_overrides(env="prod")
    with pytest.raises(TypeError):
        settings.portal_port = 9001  # type: ignore[misc]
    assert settings.portal_port == 8000
