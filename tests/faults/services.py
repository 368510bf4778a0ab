"""A PostgreSQL server, a Redis server and an SMTP relay of the fault tests' own.

The fault tests restart PostgreSQL and Redis and make the relay refuse mail: doing that to the
machine's shared servers would break whatever else uses them, so each gets its own here, on
free loopback ports, in a temporary directory removed afterwards. PostgreSQL refuses to run
as root: as root, ``initdb`` and the server run as the ``postgres`` user (``runuser``).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import redis
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from bot.mail.sink import PrivateMailbox
from bot.runner.ports import free_port

POSTGRES_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
#: What the relay answers while it refuses: a temporary failure, as a relay under maintenance.
REFUSAL = "451 4.3.0 Relais indisponible, réessayez plus tard"


class ServiceUnavailable(RuntimeError):
    """The service could not be started here (the tests skip, saying why)."""


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


class PrivatePostgres:
    """``initdb`` into a temporary directory, then ``pg_ctl`` start/restart/stop on a free port."""

    def __init__(self) -> None:
        if not POSTGRES_BIN:
            raise ServiceUnavailable("PostgreSQL n'est pas installé (/usr/lib/postgresql)")
        self.bin = POSTGRES_BIN[-1]
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="faults-postgres-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError as error:
                raise ServiceUnavailable(
                    "pas d'utilisateur postgres pour lancer le serveur"
                ) from error
            os.chown(self.root, owner.pw_uid, owner.pw_gid)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}"

    def _pg(self, *argv: str, timeout: float = 60) -> None:
        result = subprocess.run(
            _as_postgres([str(self.bin / argv[0]), *argv[1:]]),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise ServiceUnavailable(f"{argv[0]} a échoué : {result.stderr or result.stdout}")

    def start(self) -> None:
        if not self.data.exists():
            self._pg("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def restart(self) -> None:
        """Fast shutdown (every connection cut), then start again, as an operator restarts it."""
        self._pg("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        self.start()

    def stop(self) -> None:
        with contextlib.suppress(ServiceUnavailable, subprocess.TimeoutExpired):
            self._pg("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    """``redis-server`` on a free port, keeping nothing on disk (as the machine's one)."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServiceUnavailable("redis-server n'est pas installé")
        self.binary = binary
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="faults-redis-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no", "--dir", str(self.root)]
        log = (self.root / "server.log").open("ab")
        self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise ServiceUnavailable("redis-server ne répond pas") from None
                time.sleep(0.05)
            finally:
                client.close()

    def restart(self) -> None:
        """Stop (every key lost: nothing is kept on disk) and start again on the same port."""
        self._terminate()
        self.start()

    def _terminate(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        self._terminate()
        shutil.rmtree(self.root, ignore_errors=True)


class RefusingMailbox(PrivateMailbox):
    """The development sink's Maildir handler, which refuses every recipient while ``refusing``."""

    refusing = False

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.refusing:
            return REFUSAL
        envelope.rcpt_tos.append(address)
        return "250 OK"


class FlakyRelay:
    """An SMTP relay in the test process, delivering into ``maildir`` unless told to refuse."""

    def __init__(self, maildir: Path) -> None:
        self.maildir = maildir
        self.port = free_port()
        self.handler = RefusingMailbox(maildir)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @contextlib.contextmanager
    def refusing(self) -> Iterator[None]:
        self.handler.refusing = True
        try:
            yield
        finally:
            self.handler.refusing = False

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()
