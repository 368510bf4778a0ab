"""Our own nginx in front of the production processes: its configuration and its command.

The production topology needs a load balancer, and the machine's nginx *service* is nobody's
to configure here (it may not run, may belong to another site, and ``/etc/nginx`` needs
root). So the run command renders a configuration of its own into ``<var_dir>/nginx/`` from
``templates/nginx.conf.j2`` and runs ``nginx -p <prefix> -c <conf> -g 'daemon off;'`` in the
foreground, as one more child of the supervisor: the pid file, the logs and the temporary
files are all under that prefix, so it works as root or as anyone else.
"""

from __future__ import annotations

import getpass
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.dialogue.default_texts import UNAVAILABLE_RESPONSE, domain_default_text, rest_reply_json
from bot.runner.environment import local_host
from bot.runner.spec import ProcessSpec

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE = "nginx.conf.j2"
#: Where Debian puts the binary; ``/usr/sbin`` is not on every user's ``PATH``.
DEBIAN_NGINX = Path("/usr/sbin/nginx")
#: Answered by nginx itself (not proxied): the supervisor's liveness check.
HEALTH_PATH = "/nginx-health"
_TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


@dataclass(frozen=True)
class NginxSite:
    """What nginx listens on and where it sends each request.

    Attributes:
        listen_host: address of the portal and Rasa entry points (the actions one is always
            ``127.0.0.1``: only Rasa calls it).
        portal_port, rasa_port, actions_port: nginx's own ports.
        portal_ports, rasa_ports, actions_ports: the processes behind each (on 127.0.0.1).
        max_body_bytes: largest request body (an upload link's document and its form).
    """

    listen_host: str
    portal_port: int
    rasa_port: int
    actions_port: int
    portal_ports: Sequence[int]
    rasa_ports: Sequence[int]
    actions_ports: Sequence[int]
    max_body_bytes: int


def find_nginx() -> str | None:
    """The nginx binary: on ``PATH``, else Debian's ``/usr/sbin/nginx``; ``None`` if absent."""
    found = shutil.which("nginx")
    if found:
        return found
    return str(DEBIAN_NGINX) if os.access(DEBIAN_NGINX, os.X_OK) else None


def render_config(site: NginxSite, prefix: Path, *, worker_user: str | None = None) -> str:
    """The nginx configuration of ``site``, every path under ``prefix``.

    ``worker_user``: the ``user`` directive, which nginx reads only when started as root.
    """
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return environment.get_template(TEMPLATE).render(
        prefix=str(prefix),
        worker_user=worker_user,
        listen_host=site.listen_host,
        portal_port=site.portal_port,
        rasa_port=site.rasa_port,
        actions_port=site.actions_port,
        portal_ports=list(site.portal_ports),
        rasa_ports=list(site.rasa_ports),
        actions_ports=list(site.actions_ports),
        # A little room for the multipart form around the largest document.
        client_max_body_size=f"{site.max_body_bytes // 1024 + 64}k",
        unavailable_json=rest_reply_json(domain_default_text(UNAVAILABLE_RESPONSE)),
    )


def write_config(site: NginxSite, prefix: Path) -> Path:
    """Render the configuration into ``prefix/nginx.conf`` and make its directories."""
    for sub in ("logs", *(f"temp/{name}" for name in _TEMP_DIRS)):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    # As root, nginx's workers would run as "nobody", who cannot enter an owner-only var
    # directory: they run as the user who owns it (root then, the only one who can).
    worker_user = getpass.getuser() if os.geteuid() == 0 else None
    path = prefix / "nginx.conf"
    path.write_text(render_config(site, prefix, worker_user=worker_user), encoding="utf-8")
    return path


def nginx_spec(
    site: NginxSite, prefix: Path, *, binary: str, log_dir: Path, cwd: Path | None = None
) -> ProcessSpec:
    """nginx as a supervised child: foreground, its startup errors in its own log too."""
    conf = write_config(site, prefix)
    return ProcessSpec(
        name="nginx",
        # -e: nginx opens its error log before reading the configuration; the default one
        # (/var/log/nginx/error.log) is not writable by everyone.
        argv=(
            binary,
            *("-p", f"{prefix}/", "-c", str(conf), "-e", str(prefix / "logs" / "error.log")),
            *("-g", "daemon off;"),
        ),
        log_dir=log_dir,
        cwd=cwd,
        port=site.portal_port,
        bind_host=site.listen_host,
        port_env_var="PRODUCTION_PORTAL_PORT",
        label="nginx (répartiteur de charge)",
        health_url=f"http://{local_host(site.listen_host)}:{site.portal_port}{HEALTH_PATH}",
        startup_timeout=20.0,
    )
