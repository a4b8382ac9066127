"""A real PostgreSQL server for the tests: Debian's binaries, a temporary data folder, a free port.

`initdb` refuses to run as root, so when the tests run as root the server runs as the
`postgres` user (which Debian's package creates) on a folder that user owns. Local connections
are trusted, so the URLs carry no password.
"""

from __future__ import annotations

import contextlib
import getpass
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg

MISSING = (
    "PostgreSQL's server programs are missing (no /usr/lib/postgresql/*/bin/initdb): "
    "`make test` installs Debian's postgresql package with apt-get."
)


def server_binaries() -> Path | None:
    """The newest installed PostgreSQL's bin folder, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    return Path(found[-1]).parent if found else None


def _version(initdb: str) -> int:
    folder = Path(initdb).parent.parent.name
    return int(folder) if folder.isdigit() else 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    """A running server; `new_database()` gives each test an empty database of its own."""

    def __init__(self, port: int, user: str) -> None:
        self.port = port
        self.user = user
        self._numbers = itertools.count(1)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        name = f"lab_{next(self._numbers)}"
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=self.user, dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return self.url(name)


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """Start PostgreSQL on a free port in a temporary folder; stop it and remove it after."""
    binaries = server_binaries()
    if binaries is None:
        raise RuntimeError(MISSING)
    as_root = os.geteuid() == 0
    user = "postgres" if as_root else getpass.getuser()
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    folder = Path(tempfile.mkdtemp(prefix="lstm-lab-postgres-"))
    if as_root:
        shutil.chown(folder, user="postgres", group="postgres")
    data, log = folder / "data", folder / "server.log"
    port = free_port()

    def run(*arguments: str) -> None:
        # The server's user may not read the tests' folder, so it runs from its own.
        completed = subprocess.run(
            [*prefix, *arguments], cwd=folder, capture_output=True, text=True, check=False
        )
        if completed.returncode != 0:
            server_log = log.read_text() if log.exists() else ""
            raise RuntimeError(
                f"{Path(arguments[0]).name} failed: {completed.stderr.strip()}\n{server_log}"
            )

    run(
        str(binaries / "initdb"), "-D", str(data), "-U", user, "--auth=trust",
        "--encoding=UTF8", "--no-locale", "--no-sync",
    )  # fmt: skip
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    try:
        run(str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "start")
        yield PostgresServer(port, user)
    finally:
        if (data / "postmaster.pid").exists():
            run(str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)
