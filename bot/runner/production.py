"""The production topology on one machine: what runs, on which ports, with which variables.

``make run-production`` starts what a production deployment runs, here, so that the parts made
for several processes (outbox claims, Redis lock store and channel state, the tracker store on
PostgreSQL, sticky socket.io sessions) are exercised together before a real deployment::

                       ┌──────────── nginx ────────────┐
    browsers, webhooks │ :8080 portal  :5005 Rasa      │ :5055 actions (Rasa only)
                       └──┬─────────────┬──────────────┘
                 portal-1 :8001   rasa-1 :5006      actions-1 :5056
                 portal-2 :8002   rasa-2 :5007      actions-2 :5057
                        │            │   └── Redis (lock store, channel state)
                        └── PostgreSQL (tenant_portal, tenant_tracker)
                 smtp-relay :2525 (the development sink: emails in <var>/mailbox)

Every process of one kind is the embedded stack's spec (``build_specs``) on its own port,
with the shared addresses pointing at nginx: the actions reach the portal through it, Rasa
reaches the actions through it. Only the variables read here (``PRODUCTION_*``) choose the
addresses; the secrets come from ``production_env``.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from bot.runner.databases import DEFAULT_SERVER_URL, PostgresServer, check_database_name, redacted
from bot.runner.environment import child_env, local_host
from bot.runner.errors import RunnerError
from bot.runner.nginx import NginxSite, nginx_spec
from bot.runner.ports import free_port
from bot.runner.production_env import production_secrets
from bot.runner.spec import ProcessSpec
from bot.runner.stack import DEFAULT_RASA_TIMEOUT, build_specs
from bot.settings import Settings

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
SECRETS_FILE = "production.env"


def _port(environ: Mapping[str, str], name: str, default: int) -> int:
    text = environ.get(name) or str(default)
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise RunnerError(f"{name} doit être un numéro de port (reçu : {text!r}).")
    return int(text)


def _ports(environ: Mapping[str, str], name: str, default: Sequence[int]) -> tuple[int, ...]:
    text = environ.get(name) or ",".join(map(str, default))
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts or not all(part.isdigit() and 0 < int(part) < 65536 for part in parts):
        raise RunnerError(
            f"{name} doit être une liste de ports séparés par des virgules, "
            f"un par processus (reçu : {text!r})."
        )
    return tuple(int(part) for part in parts)


def _relay(text: str | None) -> str | None:
    """``host:port`` of a real SMTP relay, checked; ``None``: the sink started here."""
    if text is None:
        return None
    host, _, port = text.strip().rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise RunnerError(
            f"PRODUCTION_SMTP_RELAY doit être de la forme hôte:port (reçu : {text!r})."
        )
    return f"{host}:{port}"


@dataclass(frozen=True)
class Topology:
    """Where everything of the production run listens, and the services it uses.

    Attributes:
        var_dir: its own var directory (databases are on PostgreSQL; logs, nginx, Maildir,
            secrets and channel credentials are here).
        listen_host: where nginx takes the portal and Rasa (the actions entry is loopback).
        portal_port, rasa_port, actions_port: nginx's ports.
        portal_ports, rasa_ports, actions_ports: one per process behind nginx (loopback).
        smtp_port: the port of the SMTP relay started here (the development sink, loopback).
        smtp_relay: ``host:port`` of a real relay instead (``PRODUCTION_SMTP_RELAY``): no sink
            is started, and ``SMTP_USERNAME``, ``SMTP_PASSWORD``, ``SMTP_STARTTLS`` come from
            the environment.
        postgres, portal_database, tracker_database: the PostgreSQL server and its two bases.
        redis_url, redis_prefix: the Redis of the lock store and of the channels' state, and
            the prefix of their keys (letters and digits: the lock store ignores any other).
    """

    var_dir: Path
    listen_host: str = "127.0.0.1"
    portal_port: int = 8080
    rasa_port: int = 5005
    actions_port: int = 5055
    portal_ports: tuple[int, ...] = (8001, 8002)
    rasa_ports: tuple[int, ...] = (5006, 5007)
    actions_ports: tuple[int, ...] = (5056, 5057)
    smtp_port: int = 2525
    smtp_relay: str | None = None
    postgres: PostgresServer = PostgresServer.from_url(DEFAULT_SERVER_URL)
    portal_database: str = "tenant_portal"
    tracker_database: str = "tenant_tracker"
    redis_url: str = DEFAULT_REDIS_URL
    redis_prefix: str = "tenantassistant"

    def __post_init__(self) -> None:
        check_database_name(self.portal_database)
        check_database_name(self.tracker_database)
        if not self.redis_prefix.isalnum():
            raise RunnerError(
                f"PRODUCTION_REDIS_PREFIX : lettres et chiffres seulement "
                f"(reçu : {self.redis_prefix!r})."
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str], project_root: Path) -> Topology:
        """The ``PRODUCTION_*`` variables; every one has a default for this machine."""
        var_dir = Path(environ.get("PRODUCTION_VAR_DIR") or project_root / "var" / "production")
        return cls(
            var_dir=(project_root / var_dir).resolve(),
            listen_host=environ.get("PRODUCTION_LISTEN_HOST") or cls.listen_host,
            portal_port=_port(environ, "PRODUCTION_PORTAL_PORT", cls.portal_port),
            rasa_port=_port(environ, "PRODUCTION_RASA_PORT", cls.rasa_port),
            actions_port=_port(environ, "PRODUCTION_ACTIONS_PORT", cls.actions_port),
            portal_ports=_ports(environ, "PRODUCTION_PORTAL_BACKENDS", cls.portal_ports),
            rasa_ports=_ports(environ, "PRODUCTION_RASA_BACKENDS", cls.rasa_ports),
            actions_ports=_ports(environ, "PRODUCTION_ACTIONS_BACKENDS", cls.actions_ports),
            smtp_port=_port(environ, "PRODUCTION_SMTP_PORT", cls.smtp_port),
            smtp_relay=_relay(environ.get("PRODUCTION_SMTP_RELAY") or None),
            postgres=PostgresServer.from_url(
                environ.get("PRODUCTION_POSTGRES_URL") or DEFAULT_SERVER_URL
            ),
            portal_database=environ.get("PRODUCTION_PORTAL_DB") or cls.portal_database,
            tracker_database=environ.get("PRODUCTION_TRACKER_DB") or cls.tracker_database,
            redis_url=environ.get("PRODUCTION_REDIS_URL") or DEFAULT_REDIS_URL,
            redis_prefix=environ.get("PRODUCTION_REDIS_PREFIX") or cls.redis_prefix,
        )

    @classmethod
    def on_free_ports(cls, var_dir: Path, *, rasa_servers: int = 2, **others: Any) -> Topology:
        """Every port a free loopback one (tests, benches): nginx's, two portals, two action
        servers, ``rasa_servers`` Rasa servers and the relay; ``others`` set the rest."""
        entries = ("portal_port", "rasa_port", "actions_port", "smtp_port")
        return cls(
            var_dir=var_dir,
            **{name: free_port() for name in entries},
            portal_ports=(free_port(), free_port()),
            rasa_ports=tuple(free_port() for _ in range(rasa_servers)),
            actions_ports=(free_port(), free_port()),
            **others,
        )

    @property
    def public_host(self) -> str:
        """How a browser on this machine names nginx."""
        host = self.listen_host
        return "localhost" if host in ("", "0.0.0.0", "::", "127.0.0.1") else host

    @property
    def smtp_address(self) -> tuple[str, int]:
        """Where the portals send mail: the real relay, else the sink started here."""
        if self.smtp_relay is None:
            return "127.0.0.1", self.smtp_port
        host, _, port = self.smtp_relay.rpartition(":")
        return host, int(port)

    @property
    def nginx_prefix(self) -> Path:
        return self.var_dir / "nginx"

    @property
    def secrets_file(self) -> Path:
        return self.var_dir / SECRETS_FILE

    @property
    def log_dir(self) -> Path:
        return self.var_dir / "logs"

    @property
    def portal_entry(self) -> str:
        """nginx's portal address from this machine (the actions call the portal there)."""
        return f"http://{local_host(self.listen_host)}:{self.portal_port}"

    @property
    def rasa_entry(self) -> str:
        return f"http://{local_host(self.listen_host)}:{self.rasa_port}"

    @property
    def actions_entry(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"

    def nginx_site(self, max_body_bytes: int) -> NginxSite:
        return NginxSite(
            listen_host=self.listen_host,
            portal_port=self.portal_port,
            rasa_port=self.rasa_port,
            actions_port=self.actions_port,
            portal_ports=self.portal_ports,
            rasa_ports=self.rasa_ports,
            actions_ports=self.actions_ports,
            max_body_bytes=max_body_bytes,
        )


def production_environment(topology: Topology, environ: Mapping[str, str]) -> dict[str, str]:
    """The variables every process of the production run shares (ports excepted).

    Generates the secrets file on the first run. The environment wins for the secrets and
    for the two public URLs (a TLS front in front of nginx, another host name); the
    addresses of PostgreSQL, Redis and the relay come from the topology only.
    """
    postgres, tracker_db = topology.postgres, topology.tracker_database
    return {
        **production_secrets(topology.secrets_file, environ),
        "ASSISTANT_ENV": "production",
        "ASSISTANT_VAR_DIR": str(topology.var_dir),
        "PORTAL_PUBLIC_URL": environ.get("PORTAL_PUBLIC_URL")
        or f"http://{topology.public_host}:{topology.portal_port}",
        "RASA_PUBLIC_URL": environ.get("RASA_PUBLIC_URL")
        or f"http://{topology.public_host}:{topology.rasa_port}",
        # Takeovers write to a conversation through whichever Rasa server nginx picks: the
        # tracker is in PostgreSQL and the lock in Redis, so any one will do.
        "RASA_INTERNAL_URL": topology.rasa_entry,
        "PORTAL_DATABASE_URL": postgres.asyncpg_url(topology.portal_database),
        "TRACKER_DATABASE_URL": postgres.asyncpg_url(tracker_db),
        "RASA_TRACKER_DIALECT": "postgresql",
        # Whole URL: endpoints.yml has no user or password keys, and Rasa reads a URL there.
        "RASA_TRACKER_HOST": postgres.rasa_url(tracker_db),
        "RASA_TRACKER_DB": tracker_db,
        # Numbers that texted STOP, the same for every Rasa server (Rasa's database already).
        "SMS_OPT_OUT_DATABASE_URL": postgres.rasa_url(tracker_db),
        "LOCK_STORE_REDIS_URL": topology.redis_url,
        "LOCK_STORE_KEY_PREFIX": topology.redis_prefix,
        "CHANNEL_STATE_REDIS_URL": topology.redis_url,
        "CHANNEL_STATE_KEY_PREFIX": f"{topology.redis_prefix}:",
        **_smtp(topology, environ),
    }


def _smtp(topology: Topology, environ: Mapping[str, str]) -> dict[str, str]:
    """The sink started here takes plain SMTP; a real relay's login and TLS are the operator's."""
    host, port = topology.smtp_address
    if topology.smtp_relay is None:
        return {"SMTP_HOST": host, "SMTP_PORT": str(port), "SMTP_STARTTLS": "false"}
    given = {
        name: environ[name]
        for name in ("SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_STARTTLS")
        if environ.get(name)
    }
    return {"SMTP_HOST": host, "SMTP_PORT": str(port), **given}


def _instances(
    settings: Settings,
    kind: str,
    ports: Sequence[int],
    env: Mapping[str, str],
    *,
    project_root: Path,
    rasa_timeout: float,
) -> list[ProcessSpec]:
    """The embedded stack's ``kind`` spec once per port: numbered names, ``env`` on top of
    what ``child_env`` makes of that process's own settings."""
    field, env_var = _KINDS[kind]
    made = []
    for number, port in enumerate(ports, start=1):
        own = settings.with_overrides(**{field: port})
        spec = next(
            spec
            for spec in build_specs(own, project_root, rasa_timeout=rasa_timeout)
            if spec.name == kind
        )
        if kind == "rasa":
            # Behind nginx only: Rasa would listen on every interface (its default).
            spec = dataclasses.replace(
                spec, argv=(*spec.argv, "--interface", "127.0.0.1"), bind_host="127.0.0.1"
            )
        made.append(
            dataclasses.replace(
                spec,
                name=f"{kind}-{number}",
                label=f"{spec.label} n° {number}",
                env={**spec.env, **env},
                port_env_var=env_var,
            )
        )
    return made


#: Each kind of process behind nginx: its port in the settings, the variable listing its ports.
_KINDS = {
    "portal": ("portal_port", "PRODUCTION_PORTAL_BACKENDS"),
    "actions": ("actions_port", "PRODUCTION_ACTIONS_BACKENDS"),
    "rasa": ("rasa_port", "PRODUCTION_RASA_BACKENDS"),
}


def build_production_specs(
    settings: Settings,
    topology: Topology,
    shared: Mapping[str, str],
    project_root: Path,
    *,
    nginx_binary: str,
    rasa_timeout: float = DEFAULT_RASA_TIMEOUT,
) -> list[ProcessSpec]:
    """The relay, nginx, the portals, the action servers and the Rasa servers, in start order.

    ``settings``: built from ``shared`` (the production environment, no ports), which every
    child gets on top of what ``child_env`` makes of its own settings, with the addresses of
    nginx where one process calls another.
    """
    # A process calls the other kinds through nginx: their ports in its settings are nginx's.
    settings = settings.with_overrides(
        portal_port=topology.portal_port,
        rasa_port=topology.rasa_port,
        actions_port=topology.actions_port,
    )
    common = {
        **shared,
        "PORTAL_URL": topology.portal_entry,
        "ACTION_ENDPOINT_URL": f"{topology.actions_entry}/webhook",
    }
    instances = partial(_instances, settings, project_root=project_root, rasa_timeout=rasa_timeout)
    sink = [] if topology.smtp_relay else [_sink_spec(settings, topology, common, project_root)]
    return [
        *sink,
        nginx_spec(
            topology.nginx_site(settings.upload_max_bytes),
            topology.nginx_prefix,
            binary=nginx_binary,
            log_dir=topology.log_dir,
            cwd=project_root,
        ),
        # Behind nginx the client's address is in X-Forwarded-For (staff login audit).
        *instances("portal", topology.portal_ports, {**common, "SANIC_PROXIES_COUNT": "1"}),
        *instances("actions", topology.actions_ports, common),
        *instances("rasa", topology.rasa_ports, common),
    ]


def _sink_spec(
    settings: Settings, topology: Topology, common: Mapping[str, str], project_root: Path
) -> ProcessSpec:
    """The development sink as the relay, its emails in ``<var>/mailbox``."""
    return ProcessSpec(
        name="smtp-relay",
        argv=(sys.executable, "-m", "bot.mail.sink"),
        log_dir=topology.log_dir,
        env={**child_env(settings, project_root), **common},
        cwd=project_root,
        port=topology.smtp_port,
        bind_host="127.0.0.1",
        port_env_var="PRODUCTION_SMTP_PORT",
        label="le relais SMTP",
    )


def production_urls(topology: Topology, shared: Mapping[str, str]) -> list[tuple[str, str]]:
    """What the operator opens or points a client at, as (French label, URL)."""

    def backends(ports: Sequence[int]) -> str:
        return ", ".join(f"http://127.0.0.1:{port}" for port in ports)

    rasa = shared["RASA_PUBLIC_URL"].rstrip("/")
    return [
        ("Portail (nginx)", f"{shared['PORTAL_PUBLIC_URL'].rstrip('/')}/"),
        ("Webhook REST Rasa (nginx)", f"{rasa}/webhooks/rest/webhook"),
        ("Socket.io (widget, nginx)", f"{rasa}/socket.io"),
        ("Actions (nginx, pour Rasa)", f"{topology.actions_entry}/webhook"),
        ("Portails", backends(topology.portal_ports)),
        ("Serveurs Rasa", backends(topology.rasa_ports)),
        ("Serveurs d'actions", backends(topology.actions_ports)),
        (
            "Relais SMTP",
            topology.smtp_relay
            or f"127.0.0.1:{topology.smtp_port} → {topology.var_dir / 'mailbox'}",
        ),
        (
            "PostgreSQL",
            f"{topology.postgres.display} ({topology.portal_database}, "
            f"{topology.tracker_database})",
        ),
        ("Redis", f"{redacted(topology.redis_url)} (préfixe {topology.redis_prefix})"),
        ("Secrets", f"{topology.secrets_file} (jeton REST : REST_CHANNEL_TOKEN)"),
    ]
