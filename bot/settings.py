"""One settings object, read from the environment once and passed to whatever needs it.

Development defaults are safe and need no service: SQLite files under ``var/``, a local SMTP
sink, the dev mailbox. Production is the same code with other values (``ASSISTANT_ENV=production``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from cryptography.fernet import Fernet

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_SERVICE_TOKEN = "dev-service-token-not-for-production"
DEV_SECRET_KEY = "dev-secret-key-not-for-production"
DEV_SYSTEMPAY_KEY = "dev-systempay-key-not-for-production"
DEV_RASA_API_TOKEN = "dev-rasa-api-token-not-for-production"
DEV_ACTIONS_TOKEN = "dev-actions-token-not-for-production"
# A valid Fernet key (url-safe base64 of 32 bytes) that production refuses.
DEV_DATA_KEY = "ZGV2LWRhdGEta2V5LW5vdC1mb3ItcHJvZHVjdGlvbiE="
#: Longest message a channel hands to NLU; longer ones get a French reply instead.
MESSAGE_MAX_CHARS = 1000
SYSTEMPAY_MODES = ("TEST", "PRODUCTION")
#: The only values of ``ASSISTANT_ENV``: any other spelling ("Production", "prod") is refused,
#: never taken for development (fail closed).
ENVIRONMENTS = ("development", "test", "production")
DEVELOPMENT_ENVIRONMENTS = ("development", "test")
# Check digits valid, national part all zeros: obviously not a real SEPA creditor identifier.
DEV_CREDITOR_IDENTIFIER = "FR76ZZZ000000"


class SettingsError(RuntimeError):
    """The environment cannot be run as given; the message names the variables to fix."""


def _env_of(name: str, default: str, environ: Mapping[str, str] | None = None) -> str:
    value = (os.environ if environ is None else environ).get(name)
    return default if value is None or value == "" else value


#: SQLAlchemy's async driver for each tracker dialect Rasa may be given.
_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
_ASYNC_DRIVERS["postgres"] = _ASYNC_DRIVERS["postgresql"]


def rasa_tracker_url(env: Mapping[str, str]) -> str:
    """The async URL of the tracker store that ``RASA_TRACKER_*`` give Rasa (``endpoints.yml``:
    ``dialect``, ``url`` = host or a whole URL, ``db``), or "" when they are unset."""
    dialect = env.get("RASA_TRACKER_DIALECT", "")
    host, db = env.get("RASA_TRACKER_HOST", ""), env.get("RASA_TRACKER_DB", "")
    if not dialect:
        return ""
    if "://" in host:  # Rasa takes a whole URL in the host, credentials included
        scheme, rest = host.split("://", 1)
        return f"{_ASYNC_DRIVERS.get(scheme.split('+')[0], scheme)}://{rest}"
    driver = _ASYNC_DRIVERS.get(dialect, dialect)
    if dialect == "sqlite":
        return f"{driver}:///{db}"
    return f"{driver}://{host}/{db}"


@dataclass(frozen=True)
class Settings:
    """Everything configurable about the portal, the actions and the run command."""

    env: str = "development"
    var_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "var")
    database_url: str = ""
    # Rasa's tracker store as the portal reads it (staff console transcripts, read-only);
    # empty: var_dir/tracker.db, the SQLite file the run command gives Rasa.
    tracker_database_url: str = ""
    portal_host: str = "127.0.0.1"
    portal_port: int = 8000
    public_base_url: str = "http://localhost:8000"
    rasa_port: int = 5005
    # Where browsers reach Rasa's socket.io server; empty: the portal's host name, Rasa's port.
    rasa_public_url: str = ""
    # Rasa's HTTP API (conversations, events) answers only with this token (--auth-token).
    rasa_api_token: str = DEV_RASA_API_TOKEN
    # Where the portal reaches Rasa's HTTP API (staff takeover); empty: 127.0.0.1 on rasa_port.
    rasa_internal_url: str = ""
    # When staff answer the conversations handed to them (Europe/Paris), e.g.
    # "lun-ven 08:30-12:00,13:30-17:30; sam 09:00-12:00" (bot/portal/services/opening_hours.py).
    staff_opening_hours: str = "lun-ven 08:30-17:30"
    # Days a conversation is kept after its last message; the daily jobs delete older ones
    # (bot/staff/retention/transcripts.py).
    transcript_retention_days: int = 180
    actions_port: int = 5055
    # The action server listens here and answers only Rasa, which sends this token.
    actions_host: str = "127.0.0.1"
    actions_token: str = DEV_ACTIONS_TOKEN
    # The REST channel (tests, development) exists in production only with a token of its own.
    rest_channel_token: str = ""
    # Longer messages are refused by every channel before NLU (a French reply says why).
    message_max_chars: int = MESSAGE_MAX_CHARS
    # Encrypts IBANs at rest (Fernet, url-safe base64 of 32 bytes).
    data_encryption_key: str = DEV_DATA_KEY
    service_token: str = DEV_SERVICE_TOKEN
    # Where the SMS channel keeps the numbers that texted STOP: a SQLAlchemy URL (PostgreSQL
    # when several machines answer SMS); empty: the SQLite file var/sms_opt_out.sqlite3.
    sms_opt_out_database_url: str = ""
    # Read-only token for the Prometheus scraper's GET /metrics in production; empty: the
    # service token (which also opens the portal's service API) is accepted there instead.
    metrics_token: str = ""
    # Signs widget session tokens and keys the hashes of one-time codes.
    secret_key: str = DEV_SECRET_KEY
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "Espace locataire <ne-pas-repondre@example.org>"
    outbox_poll_seconds: float = 2.0
    # Emails one portal worker sends at once: a burst of codes does not wait behind slow sends.
    outbox_concurrency: int = 4
    # Longest wait between two attempts at an email the relay refused (exponential back-off).
    outbox_retry_max_seconds: int = 900
    # An email the relay still refuses this long after it was queued is given up on (reported).
    outbox_give_up_hours: int = 24
    # How long a worker's claim on the emails it sends lasts; a crashed worker's claim lapses.
    outbox_lease_seconds: int = 300
    activation_ttl_hours: int = 48
    reset_ttl_minutes: int = 60
    rate_limit_per_conversation: int = 8
    rate_limit_per_client_number: int = 5
    rate_limit_window_minutes: int = 15
    # Emails with a code or a link one address may receive (bot/portal/services/mail_limits.py).
    mail_limit_per_quarter_hour: int = 5
    mail_limit_per_day: int = 20
    verification_code_minutes: int = 10
    verification_max_attempts: int = 5
    grant_minutes: int = 30
    session_token_seconds: int = 300
    # Online rent payment (Systempay form API). The shop key signs the payment form and checks
    # the platform's notifications; an empty URL means the development sandbox of this portal
    # (the real platform is https://paiement.systempay.fr/vads-payment/).
    systempay_site_id: str = "12345678"
    systempay_key: str = DEV_SYSTEMPAY_KEY
    systempay_mode: str = "TEST"
    systempay_url: str = ""
    payment_max_amount: Decimal = Decimal("5000.00")
    payment_link_minutes: int = 30
    upload_max_bytes: int = 5 * 1024 * 1024
    upload_ttl_hours: int = 24
    # Printed on the SEPA mandates the portal emails.
    creditor_name: str = "Ophéa"
    creditor_identifier: str = DEV_CREDITOR_IDENTIFIER
    # Where the Telegram and SMS channels keep provider de-duplication, numbered choices,
    # upload links and button ids (bot/channels/state): empty, this process's memory (one Rasa
    # server); a redis:// URL, shared by every Rasa server behind the load balancer.
    channel_state_redis_url: str = ""
    # Before every channel key in Redis, so that several deployments can share one Redis.
    channel_state_key_prefix: str = "tenant-assistant:"
    # Where Rasa servers take their turn at a conversation (bot/dialogue/lock_store.py): empty,
    # this process's memory (one Rasa server); a redis:// URL, shared by every Rasa server.
    lock_store_redis_url: str = ""
    # Before every lock key in Redis (letters and digits only: Rasa ignores any other prefix).
    lock_store_key_prefix: str = "tenantassistant"
    # How long a Rasa server's turn keeps a conversation once that server stops renewing it
    # (it died during the turn): the longest a tenant waits before another server takes over.
    lock_ticket_seconds: float = 10.0
    # Another Telegram Bot API server (self-hosted, or a fake in tests); empty: Telegram's.
    telegram_api_base_url: str = ""
    # Another Twilio REST API base (a proxy, or a fake in tests); empty: Twilio's.
    twilio_api_base_url: str = ""

    def __post_init__(self) -> None:
        if self.env not in ENVIRONMENTS:
            raise SettingsError(
                f"ASSISTANT_ENV must be one of {', '.join(ENVIRONMENTS)} (got {self.env!r})"
            )

    @property
    def is_development(self) -> bool:
        """Development and tests: dev tokens, the dev mailbox and the payment sandbox exist."""
        return self.env in DEVELOPMENT_ENVIRONMENTS

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.var_dir / 'portal.db'}"

    @property
    def resolved_tracker_database_url(self) -> str:
        return self.tracker_database_url or f"sqlite+aiosqlite:///{self.var_dir / 'tracker.db'}"

    @property
    def mailbox_dir(self) -> Path:
        """Maildir where the development SMTP sink keeps every email it receives."""
        return self.var_dir / "mailbox"

    @property
    def portal_url(self) -> str:
        return f"http://{self.portal_host}:{self.portal_port}"

    @property
    def rasa_api_url(self) -> str:
        """Base URL of Rasa's HTTP API as the portal reaches it."""
        return self.rasa_internal_url.rstrip("/") or f"http://127.0.0.1:{self.rasa_port}"

    @property
    def payment_platform_url(self) -> str:
        """Where the tenant's browser posts the signed payment form."""
        return self.systempay_url or f"{self.public_base_url}/dev/systempay"

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``ASSISTANT_*`` variables, refusing unsafe production values.

        ``environ`` defaults to ``os.environ``; the production run command passes the
        environment it will give its children, so a refusal comes before anything starts.
        """
        environ = os.environ if environ is None else environ

        def _env(name: str, default: str) -> str:
            return _env_of(name, default, environ)

        def _positive_int(name: str, default: int) -> int:
            return _positive_int_of(name, default, environ)

        env = _env("ASSISTANT_ENV", "development")
        var_dir = Path(_env("ASSISTANT_VAR_DIR", str(PROJECT_ROOT / "var")))
        portal_port = int(_env("PORTAL_PORT", "8000"))
        settings = cls(
            env=env,
            var_dir=var_dir,
            database_url=_env("PORTAL_DATABASE_URL", ""),
            tracker_database_url=_env("TRACKER_DATABASE_URL", rasa_tracker_url(environ)),
            portal_host=_env("PORTAL_HOST", "127.0.0.1"),
            portal_port=portal_port,
            public_base_url=_env("PORTAL_PUBLIC_URL", f"http://localhost:{portal_port}"),
            rasa_port=int(_env("RASA_PORT", "5005")),
            actions_port=int(_env("ACTIONS_PORT", "5055")),
            actions_host=_env("ACTIONS_HOST", cls.actions_host),
            actions_token=_env("ACTION_SERVER_TOKEN", DEV_ACTIONS_TOKEN),
            rest_channel_token=_env("REST_CHANNEL_TOKEN", ""),
            message_max_chars=_positive_int("MESSAGE_MAX_CHARS", MESSAGE_MAX_CHARS),
            data_encryption_key=_env("DATA_ENCRYPTION_KEY", DEV_DATA_KEY),
            service_token=_env("PORTAL_SERVICE_TOKEN", DEV_SERVICE_TOKEN),
            metrics_token=_env("METRICS_TOKEN", ""),
            sms_opt_out_database_url=_env("SMS_OPT_OUT_DATABASE_URL", ""),
            rasa_public_url=_env("RASA_PUBLIC_URL", ""),
            rasa_api_token=_env("RASA_API_TOKEN", DEV_RASA_API_TOKEN),
            rasa_internal_url=_env("RASA_INTERNAL_URL", ""),
            staff_opening_hours=_env("STAFF_OPENING_HOURS", cls.staff_opening_hours),
            transcript_retention_days=_positive_int(
                "TRANSCRIPT_RETENTION_DAYS", cls.transcript_retention_days
            ),
            secret_key=_env("PORTAL_SECRET_KEY", DEV_SECRET_KEY),
            smtp_host=_env("SMTP_HOST", "127.0.0.1"),
            smtp_port=int(_env("SMTP_PORT", "8025")),
            smtp_username=_env("SMTP_USERNAME", ""),
            smtp_password=_env("SMTP_PASSWORD", ""),
            smtp_starttls=_env("SMTP_STARTTLS", "false").lower() == "true",
            mail_from=_env("MAIL_FROM", cls.mail_from),
            outbox_concurrency=_positive_int("OUTBOX_CONCURRENCY", cls.outbox_concurrency),
            outbox_retry_max_seconds=_positive_int(
                "OUTBOX_RETRY_MAX_SECONDS", cls.outbox_retry_max_seconds
            ),
            outbox_give_up_hours=_positive_int("OUTBOX_GIVE_UP_HOURS", cls.outbox_give_up_hours),
            outbox_lease_seconds=_positive_int("OUTBOX_LEASE_SECONDS", cls.outbox_lease_seconds),
            rate_limit_per_conversation=int(_env("RATE_LIMIT_PER_CONVERSATION", "8")),
            rate_limit_per_client_number=int(_env("RATE_LIMIT_PER_CLIENT_NUMBER", "5")),
            rate_limit_window_minutes=int(_env("RATE_LIMIT_WINDOW_MINUTES", "15")),
            mail_limit_per_quarter_hour=_positive_int(
                "MAIL_LIMIT_PER_QUARTER_HOUR", cls.mail_limit_per_quarter_hour
            ),
            mail_limit_per_day=_positive_int("MAIL_LIMIT_PER_DAY", cls.mail_limit_per_day),
            systempay_site_id=_env("SYSTEMPAY_SITE_ID", cls.systempay_site_id),
            systempay_key=_env("SYSTEMPAY_KEY", DEV_SYSTEMPAY_KEY),
            systempay_mode=_env("SYSTEMPAY_MODE", cls.systempay_mode).upper(),
            systempay_url=_env("SYSTEMPAY_URL", ""),
            payment_max_amount=Decimal(_env("PAYMENT_MAX_AMOUNT", str(cls.payment_max_amount))),
            payment_link_minutes=int(_env("PAYMENT_LINK_MINUTES", "30")),
            upload_max_bytes=int(_env("UPLOAD_MAX_BYTES", str(cls.upload_max_bytes))),
            upload_ttl_hours=int(_env("UPLOAD_TTL_HOURS", str(cls.upload_ttl_hours))),
            creditor_name=_env("CREDITOR_NAME", cls.creditor_name),
            creditor_identifier=_env("CREDITOR_IDENTIFIER", DEV_CREDITOR_IDENTIFIER),
            channel_state_redis_url=_env("CHANNEL_STATE_REDIS_URL", ""),
            channel_state_key_prefix=_env("CHANNEL_STATE_KEY_PREFIX", cls.channel_state_key_prefix),
            lock_store_redis_url=_env("LOCK_STORE_REDIS_URL", ""),
            lock_store_key_prefix=_env("LOCK_STORE_KEY_PREFIX", cls.lock_store_key_prefix),
            lock_ticket_seconds=float(_env("LOCK_TICKET_SECONDS", str(cls.lock_ticket_seconds))),
            telegram_api_base_url=_env("TELEGRAM_API_BASE_URL", ""),
            twilio_api_base_url=_env("TWILIO_API_BASE_URL", ""),
        )
        _check_opening_hours(settings.staff_opening_hours)
        if settings.systempay_mode not in SYSTEMPAY_MODES:
            raise SettingsError("SYSTEMPAY_MODE must be TEST or PRODUCTION")
        if not settings.lock_store_key_prefix.isalnum():
            raise SettingsError("LOCK_STORE_KEY_PREFIX must be letters and digits only")
        if not 1 <= settings.lock_ticket_seconds <= 600:
            raise SettingsError("LOCK_TICKET_SECONDS must be between 1 and 600")
        if not settings.is_development:
            _refuse_development_defaults(settings, environ)
        return settings


#: What production must be given: (variable, why, "still the development value?").
_PRODUCTION_REQUIREMENTS: tuple[tuple[str, str, Callable[[Settings], bool]], ...] = (
    (
        "PORTAL_SERVICE_TOKEN",
        "the actions' token to the portal",
        lambda s: s.service_token == DEV_SERVICE_TOKEN,
    ),
    ("RASA_API_TOKEN", "Rasa's HTTP API token", lambda s: s.rasa_api_token == DEV_RASA_API_TOKEN),
    (
        "PORTAL_SECRET_KEY",
        "signs sessions and keys code hashes",
        lambda s: s.secret_key == DEV_SECRET_KEY,
    ),
    (
        "ACTION_SERVER_TOKEN",
        "the secret Rasa sends to the action server",
        lambda s: s.actions_token == DEV_ACTIONS_TOKEN,
    ),
    (
        "DATA_ENCRYPTION_KEY",
        "encrypts IBANs at rest",
        lambda s: s.data_encryption_key == DEV_DATA_KEY,
    ),
    (
        "SYSTEMPAY_KEY",
        "the payment platform's shop key",
        lambda s: s.systempay_key == DEV_SYSTEMPAY_KEY,
    ),
    (
        "SYSTEMPAY_URL",
        "the real payment platform (empty means the sandbox)",
        lambda s: not s.systempay_url,
    ),
    (
        "CREDITOR_IDENTIFIER",
        "the SEPA creditor identifier on mandates",
        lambda s: s.creditor_identifier == DEV_CREDITOR_IDENTIFIER,
    ),
    # Their defaults are this machine's: only an explicit value will do.
    ("PORTAL_PUBLIC_URL", "the base of the links in emails", lambda s: False),
    ("SMTP_HOST", "the mail relay (the default is the development sink)", lambda s: False),
)


def _refuse_development_defaults(settings: Settings, environ: Mapping[str, str]) -> None:
    """Production starts only when every development default was replaced: one error naming
    every variable still missing, so an operator fixes them all at once."""
    missing = [
        f"{name} ({why})"
        for name, why, still_default in _PRODUCTION_REQUIREMENTS
        if still_default(settings) or not environ.get(name)
    ]
    if missing:
        raise SettingsError("Production settings must be set: " + "; ".join(missing))
    try:
        Fernet(settings.data_encryption_key.encode())
    except ValueError as error:
        raise SettingsError(
            "DATA_ENCRYPTION_KEY must be a Fernet key (url-safe base64, 32 bytes)"
        ) from error


def _positive_int_of(name: str, default: int, environ: Mapping[str, str]) -> int:
    """A whole number of at least 1, or a start-up error naming the variable."""
    text = _env_of(name, str(default), environ)
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise SettingsError(f"{name} must be a whole number, at least 1 (got {text!r})")
    return value


def _check_opening_hours(text: str) -> None:
    """Refuse to start on opening hours the handoff could not tell tenants about."""
    from bot.portal.errors import InvalidInput
    from bot.portal.services.opening_hours import parse_opening_hours

    try:
        parse_opening_hours(text)
    except InvalidInput as error:
        raise SettingsError(f"STAFF_OPENING_HOURS: {error.message}") from error
