"""A private PostgreSQL server for the tests, on 127.0.0.1 only.

The tests make their own cluster in a temporary directory (``initdb``, trust authentication
for one role, a free port, no fsync: it is thrown away) and stop it at the end, so they
touch no system cluster and need no password. The server programs come from the machine's
PostgreSQL (Debian's ``postgresql`` package, ``/usr/lib/postgresql/<version>/bin``); when
they are missing and the tests run as root with apt, the package is installed first.
PostgreSQL refuses to run as root, so as root the server runs as the ``postgres`` user.

``TEST_DATABASE_URL`` (a server of your own) skips all this; ``TEST_POSTGRES=off`` skips
the PostgreSQL tests instead.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

ROLE = "bot"


def server_binaries() -> Path | None:
    """The directory of initdb and pg_ctl, the newest version first; None if absent."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if found:
        return found[0].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def install() -> None:
    """Install Debian's PostgreSQL (as root, where apt is the package manager)."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise RuntimeError(
            "PostgreSQL's server programs are missing: install the 'postgresql' package, or "
            "set TEST_DATABASE_URL to a server of yours, or TEST_POSTGRES=off to skip"
        )
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env, capture_output=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", "postgresql"],
        check=True, env=env, capture_output=True,
    )  # fmt: skip


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """``with PostgresServer() as server: server.url(...)``"""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="bot-pg-"))
        self.port = _free_port()
        self._names = itertools.count(1)
        self._started = False

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, cwd=self.root)

    def start(self) -> PostgresServer:
        binaries = server_binaries()
        if binaries is None:
            install()
            binaries = server_binaries()
            assert binaries is not None
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        data = self.root / "data"
        self._pg_ctl = str(binaries / "pg_ctl")
        self._data = str(data)
        self._run(str(binaries / "initdb"), "-D", self._data, "-A", "trust", "-U", ROLE,
                  "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")  # fmt: skip
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(self._pg_ctl, "-D", self._data, "-o", options, "-l",
                  str(self.root / "server.log"), "-w", "start")  # fmt: skip
        self._started = True
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{ROLE}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """Create an empty database; return its URL."""
        import psycopg

        name = f"test_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        if self._started:
            self._run(self._pg_ctl, "-D", self._data, "-m", "immediate", "-w", "stop")
            self._started = False
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class OwnServer:
    """A server given by ``TEST_DATABASE_URL``: each test gets a database of its own."""

    def __init__(self, url: str) -> None:
        self.base = url
        self._names = itertools.count(1)
        self._prefix = f"test_{os.getpid()}_"

    def new_database(self) -> str:
        import psycopg

        name = f"{self._prefix}{next(self._names)}"
        with psycopg.connect(self.base, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")
        return self.base.rsplit("/", 1)[0] + "/" + name
