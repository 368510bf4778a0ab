"""Settings of a stack a bench starts itself: free loopback ports, its own var directory, and
the limits a bench exceeds on purpose raised (it verifies and e-mails the same tenants many
times in a quarter of an hour)."""

from __future__ import annotations

from pathlib import Path

from bot.runner.ports import free_port
from bot.settings import Settings

UNLIMITED = 10**6


def bench_settings(var_dir: Path) -> Settings:
    settings = Settings().with_overrides(
        var_dir=var_dir,
        portal_port=free_port(),
        rasa_port=free_port(),
        actions_port=free_port(),
        smtp_port=free_port(),
        mail_limit_per_quarter_hour=UNLIMITED,
        mail_limit_per_day=UNLIMITED,
        rate_limit_per_conversation=UNLIMITED,
        rate_limit_per_client_number=UNLIMITED,
    )
    return settings.with_overrides(public_base_url=settings.portal_url)
