"""Rasa starts with the channels that are configured here; the others are named as disabled
instead of stopping Rasa (which refuses unset ``${VARIABLES}``)."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.runner.channels import configured_channels, variables_of, write_credentials
from bot.settings import PROJECT_ROOT

SMS = "bot.channels.sms.SmsInput"
REST = "bot.channels.rest.RestInput"
SOCKETIO = "bot.channels.socketio.SocketIOInput"


def test_the_variables_a_channel_reads_are_found_anywhere_in_its_block():
    block = {"token": "${A}", "nested": {"url": "https://${HOST}/x"}, "list": ["${B}"], "n": 3}
    assert variables_of(block) == {"A", "HOST", "B"}


def test_a_channel_missing_one_variable_is_left_out_with_its_name():
    credentials = {"rest": None, "sms": {"a": "${ONE}", "b": "${TWO}"}}
    kept, missing = configured_channels(credentials, {"ONE": "x", "TWO": ""})
    assert kept == {"rest": None}
    assert missing == {"sms": ["TWO"]}


def test_the_project_channels_without_settings_are_rest_and_socketio(tmp_path: Path):
    target = tmp_path / "credentials.yml"
    missing = write_credentials(PROJECT_ROOT, target, environ={})
    written = yaml.safe_load(target.read_text(encoding="utf-8"))
    assert set(written) == {REST, SOCKETIO}
    assert written[SOCKETIO]["user_message_evt"] == "user_uttered"
    assert "TWILIO_AUTH_TOKEN" in missing[SMS]


def test_in_production_the_rest_channel_needs_its_own_token(tmp_path: Path):
    target = tmp_path / "credentials.yml"
    missing = write_credentials(PROJECT_ROOT, target, environ={"ASSISTANT_ENV": "production"})
    assert set(yaml.safe_load(target.read_text(encoding="utf-8"))) == {SOCKETIO}
    assert missing[REST] == ["REST_CHANNEL_TOKEN"]
    environ = {"ASSISTANT_ENV": "production", "REST_CHANNEL_TOKEN": "an-operator-token"}
    write_credentials(PROJECT_ROOT, target, environ=environ)
    assert set(yaml.safe_load(target.read_text(encoding="utf-8"))) == {REST, SOCKETIO}


def test_a_fully_configured_channel_is_written_with_its_variables_unexpanded(tmp_path: Path):
    environ = {
        "TWILIO_ACCOUNT_SID": "AC123",
        "TWILIO_AUTH_TOKEN": "secret",
        "TWILIO_SMS_NUMBER": "+33600000000",
        "TWILIO_SMS_WEBHOOK_URL": "https://example.org/webhooks/sms/webhook",
    }
    target = tmp_path / "credentials.yml"
    missing = write_credentials(PROJECT_ROOT, target, environ=environ)
    written = yaml.safe_load(target.read_text(encoding="utf-8"))
    assert SMS not in missing
    # Rasa expands the variables itself: the secret is never written to disk.
    assert written[SMS]["auth_token"] == "${TWILIO_AUTH_TOKEN}"
    assert "secret" not in target.read_text(encoding="utf-8")
