"""The room's PostgreSQL: Debian's server on a free loopback port, its data kept between rooms.

`initdb` refuses to run as root, so as root the server runs as Debian's `postgres` user, on a
data folder that user owns outside the project (the project may sit in a folder that user
cannot enter). Connections are from this machine only and trusted, so the URL has no password.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from lstm_core.execution.room.processes import RoomError, free_port

DATABASE = "lab"
"""The database the run store uses."""

MISSING = (
    "PostgreSQL's server programs are missing (no /usr/lib/postgresql/*/bin/initdb); "
    "`make room` installs Debian's postgresql package."
)


def server_binaries() -> Path:
    """The newest installed PostgreSQL's bin folder."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: (
            int(Path(path).parent.parent.name) if Path(path).parent.parent.name.isdigit() else 0
        ),
    )
    if not found:
        raise RoomError(MISSING)
    return Path(found[-1]).parent


def data_folder(room_folder: Path) -> Path:
    """Where this room's database lives: one folder per project checkout, kept on stop."""
    digest = hashlib.sha256(str(room_folder.resolve()).encode()).hexdigest()[:12]
    return Path("/var/tmp") / f"lstm-lab-room-{digest}"


def _as_server_user() -> tuple[list[str], str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"], "postgres"
    import getpass

    return [], getpass.getuser()


def _run(command: list[str], cwd: Path, what: str, seconds: float = 60) -> None:
    try:
        completed = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=seconds, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise RoomError(f"PostgreSQL's {what} did not finish within {seconds:g} s.") from error
    if completed.returncode != 0:
        detail = (completed.stderr or completed.stdout).strip().splitlines()
        raise RoomError(f"PostgreSQL's {what} failed: {detail[-1] if detail else 'no output'}")


def start_database(room_folder: Path) -> tuple[str, int]:
    """Start (creating it the first time) the room's database; returns its URL and port."""
    binaries = server_binaries()
    prefix, user = _as_server_user()
    home = data_folder(room_folder)
    home.mkdir(mode=0o700, exist_ok=True)
    if prefix:
        shutil.chown(home, user="postgres", group="postgres")
    data = home / "data"
    if not (data / "PG_VERSION").exists():
        _run(
            [*prefix, str(binaries / "initdb"), "-D", str(data), "-U", user, "--auth=trust",
             "--encoding=UTF8", "--no-locale"],
            home, "initdb",
        )  # fmt: skip
    port = free_port()
    log = home / "server.log"
    options = f"-p {port} -k {home} -c listen_addresses=127.0.0.1"
    _run(
        [*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options,
         "-w", "-t", "30", "start"],
        home, "start (its log: " + str(log) + ")",
    )  # fmt: skip
    link = room_folder / "postgres.log"
    link.unlink(missing_ok=True)
    link.symlink_to(log)
    pid = (data / "postmaster.pid").read_text().split()[0]
    (room_folder / "postgres.pid").write_text(f"{pid}\n")
    _create_database(user, port)
    return f"postgresql+psycopg://{user}@127.0.0.1:{port}/{DATABASE}", port


def _create_database(user: str, port: int) -> None:
    import psycopg

    try:
        with psycopg.connect(
            host="127.0.0.1", port=port, user=user, dbname="postgres", autocommit=True,
            connect_timeout=10,
        ) as connection:  # fmt: skip
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)
            ).fetchone()
            if exists is None:
                connection.execute(f"CREATE DATABASE {DATABASE}")
    except psycopg.Error as error:
        raise RoomError(f"The room's PostgreSQL did not accept a connection: {error}") from error


def stop_database(room_folder: Path, remove: bool = False) -> None:
    """Stop the room's database (fast shutdown); `remove` also deletes its data (tests do)."""
    home = data_folder(room_folder)
    data = home / "data"
    (room_folder / "postgres.pid").unlink(missing_ok=True)
    if (data / "postmaster.pid").exists():
        prefix, _ = _as_server_user()
        _run(
            [*prefix, str(server_binaries() / "pg_ctl"), "-D", str(data), "-m", "fast", "-w",
             "-t", "30", "stop"],
            home, "stop",
        )  # fmt: skip
    if remove:
        shutil.rmtree(home, ignore_errors=True)
