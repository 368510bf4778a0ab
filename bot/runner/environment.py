"""The environment children get: the settings as variables, plus what Rasa's YAML files read.

Children rebuild their own ``Settings.from_env()``, so settings overridden in-process (tests
use other ports and a temporary ``var_dir``) must travel as variables.
"""

from __future__ import annotations

import os
from pathlib import Path

from bot.settings import Settings

#: Rasa reports usage and crashes to a remote service unless told not to; conversations and
#: tracebacks of tenants' sessions must stay here (and CI has no network anyway).
NO_TELEMETRY = {"RASA_TELEMETRY_ENABLED": "false"}
TRACKER_VARIABLES = ("RASA_TRACKER_DIALECT", "RASA_TRACKER_HOST", "RASA_TRACKER_DB")


def settings_env(settings: Settings) -> dict[str, str]:
    """Variables that make ``Settings.from_env()`` in a child rebuild these settings."""
    env = {
        "ASSISTANT_ENV": settings.env,
        "ASSISTANT_VAR_DIR": str(settings.var_dir),
        "PORTAL_HOST": settings.portal_host,
        "PORTAL_PORT": str(settings.portal_port),
        "PORTAL_PUBLIC_URL": settings.public_base_url,
        "RASA_PORT": str(settings.rasa_port),
        "RASA_PUBLIC_URL": settings.rasa_public_url,
        "RASA_API_TOKEN": settings.rasa_api_token,
        "RASA_INTERNAL_URL": settings.rasa_internal_url,
        "STAFF_OPENING_HOURS": settings.staff_opening_hours,
        "TRANSCRIPT_RETENTION_DAYS": str(settings.transcript_retention_days),
        "ACTIONS_PORT": str(settings.actions_port),
        "ACTIONS_HOST": settings.actions_host,
        "ACTION_SERVER_TOKEN": settings.actions_token,
        "REST_CHANNEL_TOKEN": settings.rest_channel_token,
        "MESSAGE_MAX_CHARS": str(settings.message_max_chars),
        "DATA_ENCRYPTION_KEY": settings.data_encryption_key,
        "PORTAL_SERVICE_TOKEN": settings.service_token,
        "PORTAL_SECRET_KEY": settings.secret_key,
        "SMTP_HOST": settings.smtp_host,
        "SMTP_PORT": str(settings.smtp_port),
        "SMTP_USERNAME": settings.smtp_username,
        "SMTP_PASSWORD": settings.smtp_password,
        "SMTP_STARTTLS": "true" if settings.smtp_starttls else "false",
        "MAIL_FROM": settings.mail_from,
        "RATE_LIMIT_PER_CONVERSATION": str(settings.rate_limit_per_conversation),
        "RATE_LIMIT_PER_CLIENT_NUMBER": str(settings.rate_limit_per_client_number),
        "RATE_LIMIT_WINDOW_MINUTES": str(settings.rate_limit_window_minutes),
        "MAIL_LIMIT_PER_QUARTER_HOUR": str(settings.mail_limit_per_quarter_hour),
        "MAIL_LIMIT_PER_DAY": str(settings.mail_limit_per_day),
        "SYSTEMPAY_SITE_ID": settings.systempay_site_id,
        "SYSTEMPAY_KEY": settings.systempay_key,
        "SYSTEMPAY_MODE": settings.systempay_mode,
        "SYSTEMPAY_URL": settings.systempay_url,
        "PAYMENT_MAX_AMOUNT": str(settings.payment_max_amount),
        "PAYMENT_LINK_MINUTES": str(settings.payment_link_minutes),
        "UPLOAD_MAX_BYTES": str(settings.upload_max_bytes),
        "UPLOAD_TTL_HOURS": str(settings.upload_ttl_hours),
        "CREDITOR_NAME": settings.creditor_name,
        "CREDITOR_IDENTIFIER": settings.creditor_identifier,
    }
    if settings.database_url:
        env["PORTAL_DATABASE_URL"] = settings.database_url
    if settings.tracker_database_url:
        env["TRACKER_DATABASE_URL"] = settings.tracker_database_url
    return env


def local_host(host: str) -> str:
    """An address to reach a server bound to ``host`` from this machine."""
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host


def child_env(settings: Settings, project_root: Path) -> dict[str, str]:
    """What every child adds to the supervisor's environment."""
    pythonpath = os.pathsep.join(
        part for part in (str(project_root), os.environ.get("PYTHONPATH", "")) if part
    )
    return {
        **settings_env(settings),
        "PORTAL_URL": f"http://{local_host(settings.portal_host)}:{settings.portal_port}",
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{settings.actions_port}/webhook",
        **tracker_env(settings),
        "PYTHONPATH": pythonpath,
        # Unbuffered, so the log tail shown after a crash holds the last words.
        "PYTHONUNBUFFERED": "1",
        **NO_TELEMETRY,
    }


def tracker_env(settings: Settings) -> dict[str, str]:
    """The tracker store ``endpoints.yml`` reads: SQLite in ``var_dir`` unless configured.

    An operator who sets ``RASA_TRACKER_DIALECT`` (PostgreSQL in production) keeps their
    values; otherwise each run, tests included, gets its own SQLite file under ``var_dir``.
    """
    if os.environ.get("RASA_TRACKER_DIALECT"):
        return {name: os.environ.get(name, "") for name in TRACKER_VARIABLES}
    return {
        "RASA_TRACKER_DIALECT": "sqlite",
        "RASA_TRACKER_HOST": "",
        "RASA_TRACKER_DB": str(settings.var_dir / "tracker.db"),
    }
