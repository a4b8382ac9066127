"""Start and stop a whole room on this machine: the database, the cluster, N page servers and
nginx in front. Every piece logs and keeps its pid under the room's folder (runs/room/)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from lstm_core.execution.room.database import start_database, stop_database
from lstm_core.execution.room.processes import (
    RoomError,
    alive,
    free_port,
    healthy,
    port_open,
    spawn,
    stop_pid_file,
    wait_until,
)
from lstm_core.execution.room.proxy import nginx_config, temporary_folders

PROJECT = Path(__file__).resolve().parents[3]
ROOM_FOLDER = PROJECT / "runs" / "room"

MAX_SERVERS = 16
MAX_WORKERS = 16
SERVER_START_SECONDS = 120.0
"""Each page server must answer its health check within this (they start side by side)."""
SCHEDULER_START_SECONDS = 30.0
PROXY_START_SECONDS = 15.0


@dataclass(frozen=True)
class RoomPlan:
    """How many page servers and Dask workers, and where nginx listens."""

    servers: int = 3
    workers: int = 2
    port: int = 8080
    host: str = "127.0.0.1"

    def __post_init__(self) -> None:
        if not 1 <= self.servers <= MAX_SERVERS:
            raise ValueError(f"A room needs 1 to {MAX_SERVERS} page servers, got {self.servers}.")
        if not 0 <= self.workers <= MAX_WORKERS:
            raise ValueError(f"A room takes 0 to {MAX_WORKERS} Dask workers, got {self.workers}.")
        if not 1 <= self.port <= 65535:
            raise ValueError(f"The room's port must be 1 to 65535, got {self.port}.")


def nginx_binary() -> str:
    """Debian's nginx."""
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found is None:
        raise RoomError("nginx is missing: `make room` installs Debian's nginx package.")
    return found


PORTS_TRIED = 50
"""How many ports after a taken one the room tries before it gives up."""


def next_free_port(host: str, port: int) -> int:
    """`port` if nothing listens there, else the next one up that is free."""
    for candidate in range(port, min(port + PORTS_TRIED, 65536)):
        if not port_open(host, candidate):
            return candidate
    raise RoomError(
        f"Ports {port} to {port + PORTS_TRIED - 1} are all taken on {host}; choose another "
        "ROOM_PORT."
    )


def running_pieces(folder: Path) -> list[str]:
    """Names of the room's pieces whose processes are alive."""
    names = []
    for pid_file in sorted(folder.glob("*.pid")):
        try:
            if alive(int(pid_file.read_text().split()[0])):
                names.append(pid_file.stem)
        except (OSError, ValueError, IndexError):
            continue
    return names


def start_room(
    plan: RoomPlan,
    folder: Path = ROOM_FOLDER,
    say: Callable[[str], None] = print,
) -> dict:
    """Start every piece, each waited on with a limit; on any failure stop what started.

    Returns the room's description (also written to folder/room.json).
    """
    folder.mkdir(parents=True, exist_ok=True)
    already = running_pieces(folder)
    if already:
        raise RoomError(
            f"A room is already running here ({', '.join(already)}); stop it first with "
            "`make room-stop`."
        )
    port = next_free_port(plan.host, plan.port)
    if port != plan.port:
        say(f"Port {plan.port} is taken on {plan.host}; the room uses port {port} instead.")
        plan = replace(plan, port=port)
    room: dict = {"plan": asdict(plan), "folder": str(folder)}
    try:
        room["store"], _ = start_database(folder)
        say("PostgreSQL is up: the run store every page server shares.")
        environment = {"LSTM_LAB_STORE": room["store"], "TF_CPP_MIN_LOG_LEVEL": "2"}
        if plan.workers:
            room["scheduler"] = start_cluster(plan.workers, folder)
            environment["LSTM_LAB_DASK"] = room["scheduler"]
            say(f"Dask scheduler at {room['scheduler']}; {plan.workers} worker(s) starting.")
        room["servers"] = start_servers(plan.servers, folder, environment)
        say(f"{plan.servers} page server(s) answer on ports {room['servers']}.")
        start_proxy(plan, room["servers"], folder)
        room["url"] = f"http://{plan.host}:{plan.port}/"
    except BaseException:
        stop_room(folder)
        raise
    (folder / "room.json").write_text(json.dumps(room, indent=2))
    say(f"The room is open at {room['url']} (logs and pids in {folder}).")
    return room


def start_cluster(workers: int, folder: Path) -> str:
    """A scheduler on a free loopback port and `workers` single-threaded workers."""
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    port, dashboard = free_port(), free_port()
    spawn(
        "scheduler",
        [*dask, "--host", "127.0.0.1", "--port", str(port),
         "--dashboard-address", f"127.0.0.1:{dashboard}"],
        folder,
        {"PYTHONPATH": str(PROJECT)},
    )  # fmt: skip
    wait_until(
        lambda: port_open("127.0.0.1", port),
        SCHEDULER_START_SECONDS,
        f"The Dask scheduler did not listen within {SCHEDULER_START_SECONDS:g} s; "
        f"see {folder / 'scheduler.log'}.",
    )
    address = f"tcp://127.0.0.1:{port}"
    for number in range(1, workers + 1):
        spawn(
            f"worker-{number}",
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
             "--nworkers", "1", "--preload", "lstm_core.model.pipeline"],
            folder,
            {"PYTHONPATH": str(PROJECT), "TF_CPP_MIN_LOG_LEVEL": "2"},
        )  # fmt: skip
    return address


def start_servers(count: int, folder: Path, environment: dict[str, str]) -> list[int]:
    """`count` Streamlit servers on free loopback ports, all answering their health check."""
    ports = [free_port() for _ in range(count)]
    for number, port in enumerate(ports, start=1):
        spawn(
            f"server-{number}",
            [sys.executable, "-m", "streamlit", "run", str(PROJECT / "app.py"),
             "--server.headless", "true", "--server.address", "127.0.0.1",
             "--server.port", str(port), "--browser.gatherUsageStats", "false"],
            folder,
            environment,
            cwd=PROJECT,
        )  # fmt: skip
    for number, port in enumerate(ports, start=1):
        wait_until(
            lambda port=port: healthy(f"http://127.0.0.1:{port}"),
            SERVER_START_SECONDS,
            f"Page server {number} did not answer within {SERVER_START_SECONDS:g} s; "
            f"see {folder / f'server-{number}.log'}.",
        )
    return ports


def start_proxy(plan: RoomPlan, server_ports: list[int], folder: Path) -> None:
    """nginx in front, its configuration checked by `nginx -t` before it starts."""
    binary = nginx_binary()
    config = folder / "nginx.conf"
    config.write_text(nginx_config(plan.host, plan.port, server_ports, folder))
    for temporary in temporary_folders(folder):
        temporary.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            # nginx's workers drop root for nobody; they buffer request bodies here.
            shutil.chown(temporary, user="nobody", group="nogroup")
    checked = subprocess.run(
        [binary, "-t", "-p", str(folder), "-c", str(config)],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    if checked.returncode != 0:
        lines = checked.stderr.strip().splitlines()
        raise RoomError(f"nginx refused the room's configuration: {lines[0] if lines else ''}")
    spawn("nginx", [binary, "-p", str(folder), "-c", str(config)], folder)
    wait_until(
        lambda: port_open(plan.host, plan.port),
        PROXY_START_SECONDS,
        f"nginx did not listen on port {plan.port} within {PROXY_START_SECONDS:g} s; "
        f"see {folder / 'nginx-error.log'}.",
    )


def stop_room(folder: Path = ROOM_FOLDER, remove_database: bool = False) -> list[str]:
    """Stop nginx, the page servers, the workers, the scheduler and the database, in that order.

    Returns sentences about anything that had to be killed. The database's data is kept
    unless `remove_database` (the tests' rooms remove theirs).
    """
    notes = []
    order = ["nginx", "server-", "worker-", "scheduler"]
    pid_files = sorted(folder.glob("*.pid"))
    for prefix in order:
        for pid_file in pid_files:
            if pid_file.stem.startswith(prefix):
                note = stop_pid_file(pid_file)
                if note:
                    notes.append(note)
    stop_database(folder, remove=remove_database)
    (folder / "room.json").unlink(missing_ok=True)
    return notes
