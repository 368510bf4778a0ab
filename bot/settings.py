"""One settings object, read from the environment once and passed to whatever needs it.

Development defaults are safe and need no service: SQLite files under ``var/``, a local SMTP
sink, the dev mailbox. Production is the same code with other values (``ASSISTANT_ENV=production``).

Each setting is declared once, in ``Settings``: its type, its default, the variable it is read
from and what it does. ``Settings.from_env`` reads the variables from those declarations and
``settings_table()`` renders the README's table from them (``python -m bot.settings``), which
``tests/test_settings_model.py`` compares with the README. Defaults that are the landlord's
facts and limits (link and code lifetimes, rate limits, the largest payment) are taken from
``bot/policy/landlord.py``, written there once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from pydantic import BaseSettings, Field, ValidationError, validator
from pydantic.error_wrappers import ErrorWrapper
from pydantic.errors import PydanticErrorMixin
from pydantic.fields import ModelField

from bot.policy import landlord
from bot.policy.landlord import Limit

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


class _Refused(ValueError):
    """A validator's refusal, worded in full (variable named): reported as it is."""


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


class Settings(BaseSettings):
    """Everything configurable about the portal, the actions and the run command.

    A field with ``env`` is read from that variable by ``from_env`` and documented in the
    README's table; a field without one is fixed in code (tests may still pass it).
    ``shown_default`` is what the table prints when the default is not a plain value.
    """

    env: str = Field(
        "development",
        env="ASSISTANT_ENV",
        description="exactly `development`, `test` or `production`: any other spelling "
        "(`Production`, `prod`) is refused at start. `production` removes `/dev/*`, the SMTP "
        "sink and the payment sandbox, and refuses to start until every variable marked "
        "**production** is set to a value of its own (all missing ones are named at once)",
    )
    var_dir: Path = Field(
        default_factory=lambda: PROJECT_ROOT / "var",
        env="ASSISTANT_VAR_DIR",
        shown_default="`var/`",
        description="SQLite files, the development Maildir, logs",
    )
    database_url: str = Field(
        "",
        env="PORTAL_DATABASE_URL",
        description="the portal's database, a SQLAlchemy async URL (e.g. "
        "`postgresql+asyncpg://user@host/db`); empty: the SQLite file `var/portal.db`",
    )
    tracker_database_url: str = Field(
        "",
        env="TRACKER_DATABASE_URL",
        shown_default="from `RASA_TRACKER_*`",
        description="Rasa's tracker store as the staff console reads conversations (unset: "
        "derived from `RASA_TRACKER_*`; empty: `var/tracker.db`, the SQLite file the run "
        "command gives Rasa); pages open it read-only, only retention and erasure delete "
        "through it, so a PostgreSQL role needs `SELECT, DELETE` on `events`",
    )
    portal_host: str = Field(
        "127.0.0.1", env="PORTAL_HOST", description="the address the portal listens on"
    )
    portal_port: int = Field(8000, env="PORTAL_PORT", description="the portal's port")
    public_base_url: str = Field(
        "http://localhost:8000",
        env="PORTAL_PUBLIC_URL",
        shown_default="`http://localhost:<PORTAL_PORT>`",
        description="where tenants' browsers reach the portal: the base of the links in emails",
    )
    rasa_port: int = Field(
        5005, env="RASA_PORT", description="Rasa's port (HTTP API, REST and socket.io channels)"
    )
    rasa_public_url: str = Field(
        "",
        env="RASA_PUBLIC_URL",
        description="where browsers reach Rasa's socket.io server (the chat widget); empty: "
        "the portal's host name on `RASA_PORT`",
    )
    rasa_api_token: str = Field(
        DEV_RASA_API_TOKEN,
        env="RASA_API_TOKEN",
        description="Rasa's HTTP API (conversations, events) answers only with this token "
        "(`--auth-token`, handed to Rasa through its environment)",
    )
    rasa_internal_url: str = Field(
        "",
        env="RASA_INTERNAL_URL",
        description="where the portal reaches Rasa's HTTP API for staff takeovers; empty: "
        "`http://127.0.0.1:<RASA_PORT>`",
    )
    staff_opening_hours: str = Field(
        "lun-ven 08:30-17:30",
        env="STAFF_OPENING_HOURS",
        description="when staff answer the conversations handed to them, Paris time (e.g. "
        "`lun-ven 08:30-12:00,13:30-17:30; sam 9h-12h`; "
        "`bot/policy/opening_hours.py`); outside them the bot says when a person "
        "will answer; hours it cannot read stop start-up",
    )
    transcript_retention_days: int = Field(
        180,
        env="TRANSCRIPT_RETENTION_DAYS",
        ge=1,
        description="days a conversation is kept after its last message: the daily jobs delete "
        "older messages, in Rasa's tracker store and in the portal "
        "(`bot/staff/retention/transcripts.py`)",
    )
    actions_port: int = Field(5055, env="ACTIONS_PORT", description="the action server's port")
    actions_host: str = Field(
        "127.0.0.1",
        env="ACTIONS_HOST",
        description="the address the action server listens on; it answers only Rasa, which "
        "sends `ACTION_SERVER_TOKEN`",
    )
    actions_token: str = Field(
        DEV_ACTIONS_TOKEN,
        env="ACTION_SERVER_TOKEN",
        description="the secret Rasa sends to the action server, which refuses calls without it",
    )
    rest_channel_token: str = Field(
        "",
        env="REST_CHANNEL_TOKEN",
        description="empty: the REST channel (tests, development) exists in development and "
        "tests only; set, it also opens in production and every post needs "
        "`Authorization: Bearer <token>`",
    )
    message_max_chars: int = Field(
        MESSAGE_MAX_CHARS,
        env="MESSAGE_MAX_CHARS",
        ge=1,
        description="longer messages are refused by every channel before NLU (a French reply "
        "says why)",
    )
    data_encryption_key: str = Field(
        DEV_DATA_KEY,
        env="DATA_ENCRYPTION_KEY",
        description="Fernet key (url-safe base64 of 32 bytes) encrypting IBANs and pending "
        'email bodies at rest; make one: `.venv/bin/python -c "from cryptography.fernet '
        'import Fernet; print(Fernet.generate_key().decode())"`',
    )
    service_token: str = Field(
        DEV_SERVICE_TOKEN,
        env="PORTAL_SERVICE_TOKEN",
        description="the actions' token to the portal's service API",
    )
    sms_opt_out_database_url: str = Field(
        "",
        env="SMS_OPT_OUT_DATABASE_URL",
        description="where the SMS channel keeps the numbers that texted STOP: a SQLAlchemy URL "
        "(`postgresql://user@host:5432/db`, when several machines answer SMS; its one table, "
        "`sms_opt_out`, is created at first use); empty: the SQLite file "
        "`var/sms_opt_out.sqlite3`",
    )
    metrics_token: str = Field(
        "",
        env="METRICS_TOKEN",
        description="the Prometheus scraper's read-only token for `GET /metrics` in production; "
        "empty: `PORTAL_SERVICE_TOKEN` (which also opens the portal's service API) is accepted "
        "there instead",
    )
    secret_key: str = Field(
        DEV_SECRET_KEY,
        env="PORTAL_SECRET_KEY",
        description="signs staff and widget sessions, keys the hashes of one-time codes",
    )
    smtp_host: str = Field(
        "127.0.0.1",
        env="SMTP_HOST",
        description="the mail relay; the default is the development sink",
    )
    smtp_port: int = Field(8025, env="SMTP_PORT", description="the mail relay's port")
    smtp_username: str = Field(
        "", env="SMTP_USERNAME", description="login at the mail relay; empty: none"
    )
    smtp_password: str = Field("", env="SMTP_PASSWORD", description="password at the mail relay")
    smtp_starttls: bool = Field(
        False,
        env="SMTP_STARTTLS",
        description="`true` (any case) upgrades the connection to the relay with STARTTLS; "
        "any other value leaves it plain",
    )
    mail_from: str = Field(
        "Espace locataire <ne-pas-repondre@example.org>",
        env="MAIL_FROM",
        description="the sender of every email",
    )
    outbox_poll_seconds: float = Field(
        landlord.OUTBOX_POLL_SECONDS,
        description="how often a portal worker looks for emails to send when nothing wakes it",
    )
    outbox_concurrency: int = Field(
        4,
        env="OUTBOX_CONCURRENCY",
        ge=1,
        description="emails one portal worker sends at once (a round claims 5 × this many): a "
        "burst of codes does not wait behind slow sends",
    )
    outbox_retry_max_seconds: int = Field(
        900,
        env="OUTBOX_RETRY_MAX_SECONDS",
        ge=1,
        description="longest wait between two attempts at an email the relay refused "
        "(exponential back-off)",
    )
    outbox_give_up_hours: int = Field(
        24,
        env="OUTBOX_GIVE_UP_HOURS",
        ge=1,
        description="an email the relay still refuses this long after it was queued is given "
        "up on (reported)",
    )
    outbox_lease_seconds: int = Field(
        300,
        env="OUTBOX_LEASE_SECONDS",
        ge=1,
        description="how long a worker's claim on the emails it sends lasts, so that a crashed "
        "worker's claim lapses; one send may take at most a third of it (60 s at most)",
    )
    activation_ttl_hours: int = Field(
        landlord.ACTIVATION_LINK_HOURS, description="lifetime of an account activation link"
    )
    reset_ttl_minutes: int = Field(
        landlord.PASSWORD_RESET_LINK_MINUTES, description="lifetime of a password reset link"
    )
    rate_limit_per_conversation: int = Field(
        landlord.ATTEMPTS_PER_CONVERSATION.count,
        env="RATE_LIMIT_PER_CONVERSATION",
        description="attempts (registration, recovery, codes, logins) one conversation may make "
        "in `RATE_LIMIT_WINDOW_MINUTES`",
    )
    rate_limit_per_client_number: int = Field(
        landlord.ATTEMPTS_PER_CLIENT_NUMBER.count,
        env="RATE_LIMIT_PER_CLIENT_NUMBER",
        description="the same attempts for one client number",
    )
    rate_limit_window_minutes: int = Field(
        landlord.minutes(landlord.ATTEMPT_WINDOW),
        env="RATE_LIMIT_WINDOW_MINUTES",
        description="the window, in minutes, of the two limits above",
    )
    mail_limit_per_quarter_hour: int = Field(
        landlord.EMAILS_PER_ADDRESS[0].count,
        env="MAIL_LIMIT_PER_QUARTER_HOUR",
        ge=1,
        description="emails with a code or a link one address may receive in a quarter of an "
        "hour; past it nothing is sent, the answer stays the same "
        "(`bot/portal/services/mail_limits.py`)",
    )
    mail_limit_per_day: int = Field(
        landlord.EMAILS_PER_ADDRESS[1].count,
        env="MAIL_LIMIT_PER_DAY",
        ge=1,
        description="the same in a day",
    )
    verification_code_minutes: int = Field(
        landlord.VERIFICATION_CODE_MINUTES,
        description="lifetime of a one-time code that verifies a conversation",
    )
    verification_max_attempts: int = Field(
        landlord.WRONG_CODES.count, description="wrong entries that spend a code"
    )
    grant_minutes: int = Field(
        landlord.GRANT_MINUTES,
        description="how long a verified conversation may read the tenant's account",
    )
    session_token_seconds: int = Field(
        landlord.WIDGET_TOKEN_SECONDS,
        description="lifetime of the token a logged-in tenant page hands the chat widget",
    )
    systempay_site_id: str = Field(
        "12345678", env="SYSTEMPAY_SITE_ID", description="the shop's site id at Systempay"
    )
    systempay_key: str = Field(
        DEV_SYSTEMPAY_KEY,
        env="SYSTEMPAY_KEY",
        description="the shop key: signs the payment form and checks the platform's notifications",
    )
    systempay_mode: str = Field(
        "TEST",
        env="SYSTEMPAY_MODE",
        description="`TEST`, or `PRODUCTION` for real payments (any case)",
    )
    systempay_url: str = Field(
        "",
        env="SYSTEMPAY_URL",
        description="where the tenant's browser posts the signed payment form, e.g. "
        "`https://paiement.systempay.fr/vads-payment/`; empty: the development sandbox of "
        "this portal, `/dev/systempay`",
    )
    payment_max_amount: Decimal = Field(
        landlord.MAX_ONLINE_PAYMENT,
        env="PAYMENT_MAX_AMOUNT",
        description="the largest online payment, in euros",
    )
    payment_link_minutes: int = Field(
        landlord.PAYMENT_LINK_MINUTES,
        env="PAYMENT_LINK_MINUTES",
        description="lifetime of a payment link",
    )
    upload_max_bytes: int = Field(
        landlord.UPLOAD_MAX_BYTES,
        env="UPLOAD_MAX_BYTES",
        shown_default="`5242880` (5 MiB)",
        description="the largest document sent through an upload link",
    )
    upload_ttl_hours: int = Field(
        landlord.UPLOAD_LINK_HOURS, env="UPLOAD_TTL_HOURS", description="lifetime of an upload link"
    )
    creditor_name: str = Field(
        "Ophéa",
        env="CREDITOR_NAME",
        description="the creditor printed on the SEPA mandates the portal emails",
    )
    creditor_identifier: str = Field(
        DEV_CREDITOR_IDENTIFIER,
        env="CREDITOR_IDENTIFIER",
        description="the SEPA creditor identifier printed on mandates; the default is "
        "obviously fake (valid check digits, national part all zeros)",
    )
    channel_state_redis_url: str = Field(
        "",
        env="CHANNEL_STATE_REDIS_URL",
        description="where the Telegram and SMS channels keep provider de-duplication, "
        "numbered choices, upload links and button ids (`bot/channels/state`): "
        "`redis://[:password@]host:6379/0` (or `rediss://`, `unix://`), shared by every Rasa "
        "server given the same URL and prefix; empty: the Rasa process's memory (one Rasa "
        "server). If Redis cannot be reached, Telegram updates get a 500 (Telegram sends them "
        "again), SMS are still handled (Twilio would not send them again), and lost choices "
        'only mean that "2" reaches Rasa as typed',
    )
    channel_state_key_prefix: str = Field(
        "tenant-assistant:",
        env="CHANNEL_STATE_KEY_PREFIX",
        description="put before every channel key in Redis, so that several deployments "
        "(production, staging) can share one Redis without seeing each other's keys",
    )
    lock_store_redis_url: str = Field(
        "",
        env="LOCK_STORE_REDIS_URL",
        description="where Rasa servers take their turn at a conversation "
        "(`bot/dialogue/lock_store.py`): `redis://[:password@]host:6379/1` (`rediss://` for "
        "TLS), shared by every Rasa server given the same URL and prefix; empty: the Rasa "
        "process's memory (one Rasa server)",
    )
    lock_store_key_prefix: str = Field(
        "tenantassistant",
        env="LOCK_STORE_KEY_PREFIX",
        description="put before every lock key in Redis; letters and digits only (Rasa ignores "
        "any other prefix, so it is refused at start)",
    )
    lock_ticket_seconds: float = Field(
        10.0,
        env="LOCK_TICKET_SECONDS",
        ge=1,
        le=600,
        description="a message's ticket is a lease renewed every third of this while the "
        "message waits or is handled: a Rasa server that dies during a turn keeps the "
        "conversation this long at most, before another server takes over",
    )
    telegram_api_base_url: str = Field(
        "",
        env="TELEGRAM_API_BASE_URL",
        description="root of another Telegram Bot API server (self-hosted `telegram-bot-api`, "
        "or a fake in tests): methods are called under `<root>/bot<token>/` and files "
        "downloaded from `<root>/file/bot<token>/`; empty: Telegram's "
        "`https://api.telegram.org`",
    )
    twilio_api_base_url: str = Field(
        "",
        env="TWILIO_API_BASE_URL",
        description="another base for Twilio's REST API (a proxy, or a fake in tests), for the "
        "SMS channel's outgoing messages; empty: Twilio's `https://api.twilio.com`",
    )

    class Config:
        frozen = True
        case_sensitive = True

        @classmethod
        def customise_sources(
            cls, init_settings: Any, env_settings: Any, file_secret_settings: Any
        ) -> tuple[Any, ...]:
            """Building reads nothing but its arguments: ``from_env`` is the one reader, of the
            mapping it is given (the run command checks its children's environment before
            starting them; tests build settings without this machine's variables)."""
            return (init_settings,)

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as error:
            raise SettingsError(_problems(error, values)) from error

    @validator("env")
    def _known_environment(cls, value: str, field: ModelField) -> str:
        if value not in ENVIRONMENTS:
            raise _Refused(
                f"{_variable(field)} must be one of {', '.join(ENVIRONMENTS)} (got {value!r})"
            )
        return value

    @validator("staff_opening_hours")
    def _readable_opening_hours(cls, value: str, field: ModelField) -> str:
        """Refuse to start on opening hours the handoff could not tell tenants about."""
        from bot.errors import InvalidInput
        from bot.policy.opening_hours import parse_opening_hours

        try:
            parse_opening_hours(value)
        except InvalidInput as error:
            raise _Refused(f"{_variable(field)}: {error.message}") from error
        return value

    @validator("smtp_starttls", pre=True)
    def _only_true_is_true(cls, value: object) -> object:
        """As before the model: only "true" turns STARTTLS on, "1" or "yes" leave it off."""
        return value.lower() == "true" if isinstance(value, str) else value

    @validator("systempay_mode")
    def _known_payment_mode(cls, value: str, field: ModelField) -> str:
        if value.upper() not in SYSTEMPAY_MODES:
            raise _Refused(f"{_variable(field)} must be TEST or PRODUCTION")
        return value.upper()

    @validator("lock_store_key_prefix")
    def _prefix_rasa_keeps(cls, value: str, field: ModelField) -> str:
        if not value.isalnum():
            raise _Refused(f"{_variable(field)} must be letters and digits only")
        return value

    @property
    def is_development(self) -> bool:
        """Development and tests: dev tokens, the dev mailbox and the payment sandbox exist."""
        return self.env in DEVELOPMENT_ENVIRONMENTS

    @property
    def attempt_window(self) -> timedelta:
        """The window of the identity and login limits (``landlord.ATTEMPT_WINDOW`` unless
        ``RATE_LIMIT_WINDOW_MINUTES`` says otherwise)."""
        return timedelta(minutes=self.rate_limit_window_minutes)

    @property
    def attempts_per_conversation(self) -> Limit:
        """``landlord.ATTEMPTS_PER_CONVERSATION``, with this deployment's count and window."""
        return Limit(self.rate_limit_per_conversation, self.attempt_window)

    @property
    def attempts_per_client_number(self) -> Limit:
        """``landlord.ATTEMPTS_PER_CLIENT_NUMBER``, with this deployment's count and window."""
        return Limit(self.rate_limit_per_client_number, self.attempt_window)

    @property
    def emails_per_address(self) -> tuple[Limit, ...]:
        """``landlord.EMAILS_PER_ADDRESS``, shortest window first, with this deployment's
        counts."""
        quarter_hour, day = landlord.EMAILS_PER_ADDRESS
        return (
            quarter_hour._replace(count=self.mail_limit_per_quarter_hour),
            day._replace(count=self.mail_limit_per_day),
        )

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
        """A copy with some values changed, checked like new settings (``copy`` would not)."""
        return type(self)(**{**self.dict(), **changes})

    @classmethod
    def variables(cls) -> dict[str, str]:
        """Field name → the variable ``from_env`` reads it from, for the fields that have one."""
        return {
            name: field.field_info.extra["env"]
            for name, field in cls.__fields__.items()
            if "env" in field.field_info.extra
        }

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from the variables the fields name, refusing unsafe production values.

        ``environ`` defaults to ``os.environ``; the production run command passes the
        environment it will give its children, so a refusal comes before anything starts.
        An empty variable counts as unset.
        """
        environ = os.environ if environ is None else environ
        given: dict[str, Any] = {
            name: environ[variable]
            for name, variable in cls.variables().items()
            if environ.get(variable)
        }
        # The two defaults that follow other variables rather than a constant.
        port = given.get("portal_port", cls.__fields__["portal_port"].default)
        given.setdefault("public_base_url", f"http://localhost:{port}")
        given.setdefault("tracker_database_url", rasa_tracker_url(environ))
        settings = cls(**given)
        if not settings.is_development:
            _refuse_development_defaults(settings, environ)
        return settings


def _variable(field: ModelField) -> str:
    """How messages name a field: its variable, or its name when it has none."""
    return field.field_info.extra.get("env", field.name)


def _expected(field: ModelField) -> str:
    """What a field accepts, in words, from its type and bounds."""
    info, kind = field.field_info, field.type_
    if info.ge is not None and info.le is not None:
        return f"between {info.ge:g} and {info.le:g}"
    if issubclass(kind, bool):
        words = "true or false"
    elif issubclass(kind, int):
        words = "a whole number"
    elif issubclass(kind, (float, Decimal)):
        words = "a number"
    else:
        words = f"a {kind.__name__}"
    return f"{words}, at least {info.ge}" if info.ge is not None else words


def _problems(error: ValidationError, values: Mapping[str, Any]) -> str:
    """One line naming every variable refused: a validator's own words, or what the field's
    type and bounds accept next to the value given."""
    problems = []
    for wrapper in _wrappers(error.raw_errors):
        name, exc = str(wrapper.loc_tuple()[0]), wrapper.exc
        field = Settings.__fields__.get(name)
        if field is None:  # an unknown keyword
            problems.append(f"{name}: {exc}")
        elif isinstance(exc, _Refused):
            problems.append(str(exc))
        elif isinstance(exc, PydanticErrorMixin):  # the type or the bounds refused the value
            problems.append(
                f"{_variable(field)} must be {_expected(field)} (got {values.get(name)!r})"
            )
        else:  # a validator failed on its own: say which variable it was reading
            problems.append(f"{_variable(field)}: {exc}")
    return "; ".join(problems)


def _wrappers(errors: Any) -> Iterator[ErrorWrapper]:
    """pydantic nests its errors in lists; each one, in order."""
    for error in errors:
        if isinstance(error, ErrorWrapper):
            yield error
        else:
            yield from _wrappers(error)


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


def _shown_default(field: ModelField) -> str:
    shown = field.field_info.extra.get("shown_default")
    if shown is not None:
        return shown
    value = field.get_default()
    if value == "":
        return "empty"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float):
        return f"`{value:g}`"
    return f"`{value}`"


def settings_table() -> str:
    """The README's table of variables, rendered from the fields so that it cannot drift from
    them: one row per variable, its default, what it does, its bounds, and **production**
    when production refuses to start without a value of its own."""
    production = {name for name, _why, _still_default in _PRODUCTION_REQUIREMENTS}
    rows = ["| variable | default (development) | what it does |", "|---|---|---|"]
    for name, variable in Settings.variables().items():
        field = Settings.__fields__[name]
        what = field.field_info.description or ""
        if field.field_info.ge is not None:
            what += f"; {_expected(field)}"
        if variable in production:
            what += "; **production**"
        what = what.replace("|", "\\|")  # a bar would split the cell
        rows.append(f"| `{variable}` | {_shown_default(field)} | {what} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(settings_table(), end="")
