"""``ProductionStack``: the production topology of ``bot/runner/production.py``, started here.

The same life cycle as the embedded ``Stack`` (``start()`` returns once every process answers
its liveness URL, ``watch()`` restarts a process that stops, ``stop()`` stops them all), with
the services a production run stands on checked first: nginx installed, Redis answering,
PostgreSQL answering and its two databases made, the portal's schema migrated once before
two portals start. A test uses it with free ports, a temporary var directory, databases of
its own and a Redis key prefix of its own::

    with ProductionStack(Topology(var_dir=tmp_path, ...), environ=env, train=False) as stack:
        ...  # nginx, 2 portals, 2 action servers, 2 Rasa servers, the relay: all answer
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from bot.runner.channels import write_credentials
from bot.runner.console import Echo, print_flush
from bot.runner.databases import ensure_databases
from bot.runner.errors import PortInUse, RunnerError
from bot.runner.lifecycle import Started
from bot.runner.nginx import find_nginx
from bot.runner.ports import port_is_free
from bot.runner.production import (
    Topology,
    build_production_specs,
    production_environment,
    production_urls,
)
from bot.runner.stack import DEFAULT_RASA_TIMEOUT, channels_file, run_async
from bot.runner.supervisor import Supervisor
from bot.runner.training import ensure_model
from bot.settings import PROJECT_ROOT, Settings


class NginxMissing(RunnerError):
    """nginx is not installed; ``make run-production`` installs it (scripts/run-production)."""

    def __init__(self) -> None:
        super().__init__(
            "nginx est introuvable. Installez-le (apt-get install -y nginx) ou lancez "
            "make run-production, qui l'installe."
        )


class RedisUnavailable(RunnerError):
    """Redis did not answer a PING; the message names the variable that moves it."""


def check_redis(url: str) -> None:
    """PING Redis at ``url`` (3 s at most)."""
    import redis

    from bot.runner.databases import redacted

    client = redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as error:
        raise RedisUnavailable(
            f"Redis ne répond pas sur {redacted(url)} : {error}. Démarrez-le ou indiquez son "
            "adresse dans PRODUCTION_REDIS_URL."
        ) from error
    finally:
        client.close()


class ProductionStack(Started):
    """nginx, the SMTP relay and several portals, action servers and Rasa servers.

    ``environ`` (``os.environ`` by default) is where the secrets and public URLs an operator
    set are read; nothing of it changes the ``PRODUCTION_*`` topology already built.
    """

    def __init__(
        self,
        topology: Topology,
        project_root: Path = PROJECT_ROOT,
        *,
        environ: Mapping[str, str] | None = None,
        train: bool = False,
        demo: bool = False,
        rasa_timeout: float = DEFAULT_RASA_TIMEOUT,
        stop_timeout: float = 15.0,
        echo: Echo = print_flush,
    ) -> None:
        self.topology = topology
        self.project_root = project_root
        self.environ = dict(os.environ if environ is None else environ)
        self.train = train
        self.demo = demo
        self.rasa_timeout = rasa_timeout
        self.stop_timeout = stop_timeout
        self.echo = echo
        self.shared: dict[str, str] = {}
        self.settings: Settings | None = None
        self.supervisor: Supervisor | None = None

    @property
    def log_dir(self) -> Path:
        return self.topology.log_dir

    def urls(self) -> list[tuple[str, str]]:
        return production_urls(self.topology, self.shared)

    def prepare(self) -> Supervisor:
        """Secrets, settings (refused like any production start) and the supervisor."""
        binary = find_nginx()
        if binary is None:
            raise NginxMissing()
        self.topology.var_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.topology.var_dir, 0o700)
        self.shared = production_environment(self.topology, self.environ)
        self.settings = Settings.from_env({**self.environ, **self.shared})
        specs = build_production_specs(
            self.settings,
            self.topology,
            self.shared,
            self.project_root,
            nginx_binary=binary,
            rasa_timeout=self.rasa_timeout,
        )
        self.supervisor = Supervisor(specs, stop_timeout=self.stop_timeout, echo=self.echo)
        return self.supervisor

    def check_ports(self, supervisor: Supervisor) -> None:
        """Every port at once, before the slow steps; nginx listens on three."""
        topology = self.topology
        for port, label, variable, host in (
            (
                topology.rasa_port,
                "nginx (entrée Rasa)",
                "PRODUCTION_RASA_PORT",
                topology.listen_host,
            ),
            (
                topology.actions_port,
                "nginx (entrée actions)",
                "PRODUCTION_ACTIONS_PORT",
                "127.0.0.1",
            ),
        ):
            if not port_is_free(port, host):
                raise PortInUse(
                    port=port,
                    label=label,
                    env_var=variable,
                    hint=f" ou choisissez-en un autre : {variable}={port + 1} make run-production",
                )
        supervisor.check_ports()

    def start(self) -> None:
        try:
            supervisor = self.prepare()
            self.check_ports(supervisor)
            self._check_services()
            self._ensure_model()
            self._prepare_database()
            self._write_channels()
            self.echo("Démarrage des services (topologie de production)…")
            supervisor.start()
        except BaseException:
            self.stop()
            raise

    def watch(self) -> None:
        """Block while everything runs, restarting a child that stops (``Supervisor.watch``)."""
        if self.supervisor is not None:
            self.supervisor.watch()

    def stop(self) -> None:
        """Stop every child; safe to call twice, or before ``start()``."""
        if self.supervisor is not None:
            self.supervisor.stop()

    def _check_services(self) -> None:
        topology = self.topology
        check_redis(topology.redis_url)
        created = run_async(
            lambda: ensure_databases(
                topology.postgres, [topology.portal_database, topology.tracker_database]
            )
        )
        for name in created:
            self.echo(f"Base PostgreSQL {name} créée.")

    def _ensure_model(self) -> None:
        ensure_model(self.project_root, train=self.train, echo=self.echo)

    def _prepare_database(self) -> None:
        """Migrate once here, so that two portals do not both wait on the migration lock."""
        from bot.portal.bootstrap import prepare_database

        assert self.settings is not None
        settings = self.settings
        loaded = run_async(lambda: prepare_database(settings, demo=self.demo))
        if loaded:
            self.echo("Base du portail vide : données de démonstration chargées.")

    def _write_channels(self) -> None:
        assert self.settings is not None
        # What the Rasa servers will see: the supervisor's environment and the shared variables.
        environ = {**os.environ, **self.shared}
        target = channels_file(self.settings)
        missing = write_credentials(self.project_root, target, environ)
        for channel, lacking in missing.items():
            self.echo(f"Canal {channel} désactivé : variables absentes ({', '.join(lacking)}).")
