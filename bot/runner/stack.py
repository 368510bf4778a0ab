"""The tenant assistant's stack: portal, action server and Rasa server, plus the dev SMTP sink.

``Stack`` is what ``python -m bot.cli run`` uses, and what an end-to-end fixture uses with other
ports and a temporary ``var_dir``::

    settings = Settings.from_env().with_overrides(var_dir=tmp_path, portal_port=18000, ...)
    with Stack(settings, train=False) as stack:
        ...  # everything answers its health check here
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

from bot.runner.channels import write_credentials
from bot.runner.console import Echo, print_flush
from bot.runner.environment import child_env, local_host
from bot.runner.lifecycle import Started
from bot.runner.ports import ensure_port_free
from bot.runner.rasa_main import rasa_main_command
from bot.runner.spec import ProcessSpec
from bot.runner.supervisor import Supervisor
from bot.runner.training import MODELS_DIR, ensure_model
from bot.settings import PROJECT_ROOT, Settings

if TYPE_CHECKING:
    from aiosmtpd.controller import Controller

T = TypeVar("T")

DEFAULT_RASA_TIMEOUT = 180.0


def build_specs(
    settings: Settings,
    project_root: Path = PROJECT_ROOT,
    *,
    rasa_timeout: float = DEFAULT_RASA_TIMEOUT,
) -> list[ProcessSpec]:
    """Portal, actions and Rasa, in start order."""
    spec = partial(
        ProcessSpec,
        log_dir=settings.var_dir / "logs",
        env=child_env(settings, project_root),
        cwd=project_root,
    )
    portal_url = f"http://{local_host(settings.portal_host)}:{settings.portal_port}"
    actions_port, rasa_port = str(settings.actions_port), str(settings.rasa_port)
    actions_url = f"http://{local_host(settings.actions_host)}:{actions_port}"
    # The API token travels as RASA_API_TOKEN (child_env), never on the command line (`ps`).
    rasa_run = rasa_main_command(
        *("run", "--enable-api", "--cors", *widget_origins(settings), "--port", rasa_port),
        *("--credentials", str(channels_file(settings)), "--endpoints", "endpoints.yml"),
        *("--model", f"{MODELS_DIR}/"),
    )
    return [
        spec(
            name="portal",
            argv=(sys.executable, "-m", "bot.app"),
            port=settings.portal_port,
            bind_host=settings.portal_host,
            port_env_var="PORTAL_PORT",
            label="le portail",
            health_url=f"{portal_url}/health",
        ),
        spec(
            name="actions",
            argv=(sys.executable, "-m", "bot.runner.action_server"),
            port=settings.actions_port,
            bind_host=settings.actions_host,
            port_env_var="ACTIONS_PORT",
            label="le serveur d'actions",
            health_url=f"{actions_url}/health",
            startup_timeout=90.0,
        ),
        spec(
            name="rasa",
            argv=tuple(rasa_run),
            port=settings.rasa_port,
            port_env_var="RASA_PORT",
            label="le serveur Rasa",
            health_url=f"http://127.0.0.1:{rasa_port}/",
            startup_timeout=rasa_timeout,
        ),
    ]


def widget_origins(settings: Settings) -> list[str]:
    """The origins whose pages may call Rasa from a browser (``--cors``): where the widget runs.

    The portal's public origin; in development also the portal's local address under both of
    its names, since an operator opens either ``localhost`` or ``127.0.0.1``.
    """
    origins = [origin_of(settings.public_base_url)]
    if settings.is_development:
        hosts = (local_host(settings.portal_host), "localhost", "127.0.0.1")
        origins += [origin_of(f"http://{host}:{settings.portal_port}") for host in hosts]
    return list(dict.fromkeys(origins))


def origin_of(url: str) -> str:
    """A URL's origin as a browser sends it in ``Origin`` (no path, no default port)."""
    parts = urlsplit(url)
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    port = "" if parts.port in (None, default_port) else f":{parts.port}"
    host = parts.hostname or ""
    return f"{parts.scheme}://{f'[{host}]' if ':' in host else host}{port}"


def channels_file(settings: Settings) -> Path:
    """The credentials Rasa starts with: the channels of ``credentials.yml`` configured here."""
    return settings.var_dir / "credentials.yml"


def service_urls(settings: Settings) -> list[tuple[str, str]]:
    """What the operator opens or points a client at, as (French label, URL)."""
    portal = f"http://{_browsable(settings.portal_host)}:{settings.portal_port}"
    urls = [("Portail", f"{portal}/")]
    if settings.is_development:
        urls.append(("Boîte mail (dév.)", f"{portal}/dev/mailbox"))
    rasa = f"http://localhost:{settings.rasa_port}"
    actions = f"http://{_browsable(settings.actions_host)}:{settings.actions_port}"
    urls += [
        ("Webhook REST Rasa", f"{rasa}/webhooks/rest/webhook"),
        ("Socket.io (widget)", f"{rasa}/socket.io"),
        ("Serveur d'actions", f"{actions}/webhook"),
    ]
    return urls


def _browsable(host: str) -> str:
    return "localhost" if host in ("", "0.0.0.0", "::", "127.0.0.1") else host


def run_async(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from sync code, even under a running loop (async tests)."""

    async def _main() -> T:
        return await make()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _main()).result()


class Stack(Started):
    """The whole running system; ``start()`` returns once every part answers its health check.

    On any failure during ``start()`` (Ctrl-C included) what was started is stopped again.
    """

    def __init__(
        self,
        settings: Settings,
        project_root: Path = PROJECT_ROOT,
        *,
        train: bool = True,
        rasa_timeout: float = DEFAULT_RASA_TIMEOUT,
        stop_timeout: float = 10.0,
        echo: Echo = print_flush,
    ) -> None:
        self.settings = settings
        self.project_root = project_root
        self.train = train
        self.echo = echo
        self.supervisor = Supervisor(
            build_specs(settings, project_root, rasa_timeout=rasa_timeout),
            stop_timeout=stop_timeout,
            echo=echo,
        )
        self.smtp: Controller | None = None
        self.demo_data_loaded = False

    @property
    def log_dir(self) -> Path:
        return self.settings.var_dir / "logs"

    def urls(self) -> list[tuple[str, str]]:
        return service_urls(self.settings)

    def check_ports(self) -> None:
        """Every port at once, before the slow steps, so a clash is reported in seconds."""
        self.supervisor.check_ports()
        if self.settings.is_development:
            ensure_port_free(
                self.settings.smtp_port,
                label="le serveur SMTP de développement",
                env_var="SMTP_PORT",
                host=self.settings.smtp_host,
            )

    def start(self) -> None:
        self.check_ports()
        try:
            self._ensure_model()
            self._prepare_database()
            self._write_channels()
            self._start_smtp_sink()
            self.echo("Démarrage des services…")
            self.supervisor.start()
        except BaseException:
            self.stop()
            raise

    def watch(self) -> None:
        """Block while everything runs, restarting a child that stops (see ``Supervisor.watch``)."""
        self.supervisor.watch()

    def stop(self) -> None:
        """Stop the children, then the SMTP sink; safe to call twice."""
        self.supervisor.stop()
        if self.smtp is not None:
            smtp, self.smtp = self.smtp, None
            smtp.stop()

    def _ensure_model(self) -> None:
        ensure_model(self.project_root, train=self.train, echo=self.echo)

    def _write_channels(self) -> None:
        environ = {**os.environ, **child_env(self.settings, self.project_root)}
        missing = write_credentials(self.project_root, channels_file(self.settings), environ)
        for channel, lacking in missing.items():
            self.echo(f"Canal {channel} désactivé : variables absentes ({', '.join(lacking)}).")

    def _prepare_database(self) -> None:
        from bot.portal.bootstrap import prepare_database

        self.settings.var_dir.mkdir(parents=True, exist_ok=True)
        self.demo_data_loaded = run_async(lambda: prepare_database(self.settings))
        if self.demo_data_loaded:
            self.echo("Base vide : données de démonstration chargées.")

    def _start_smtp_sink(self) -> None:
        if not self.settings.is_development:
            return
        from bot.mail.sink import start_smtp_sink

        self.smtp = start_smtp_sink(
            self.settings.smtp_host, self.settings.smtp_port, self.settings.mailbox_dir
        )
        self.echo(
            f"  SMTP de développement sur {self.settings.smtp_host}:{self.settings.smtp_port}"
            f" (courriels dans {self.settings.mailbox_dir})"
        )
