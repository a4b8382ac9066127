"""Background processes of a room: started with a log and a pid file each, waited on with a
time limit and a sentence, stopped by their pid files."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from lstm_core.errors import LabError


class RoomError(LabError):
    """A piece of the room could not start or stop; the sentence says which and where to look."""


def spawn(
    name: str,
    command: Sequence[str],
    folder: Path,
    environment: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    """Start `command` in its own session, output to folder/NAME.log, pid to folder/NAME.pid."""
    log = (folder / f"{name}.log").open("ab")
    try:
        process = subprocess.Popen(
            list(command),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(environment or {})},
            cwd=cwd,
            start_new_session=True,
        )
    finally:
        log.close()
    (folder / f"{name}.pid").write_text(f"{process.pid}\n")
    return process.pid


def wait_until(check: Callable[[], bool], seconds: float, sentence: str) -> None:
    """Poll `check` until it is true; after `seconds`, raise RoomError with `sentence`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise RoomError(sentence)


def port_open(host: str, port: int) -> bool:
    """True when something accepts TCP connections there (a 1-second try)."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def healthy(url: str) -> bool:
    """True when a Streamlit server's /_stcore/health answers 'ok' within 2 seconds."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.read().strip() == b"ok"
    except OSError:
        return False


def alive(pid: int) -> bool:
    """True while the process exists (and is not a zombie we could reap)."""
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
        if finished == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def stop_pid_file(pid_file: Path, seconds: float = 10.0) -> str | None:
    """End the process group named by `pid_file` (TERM, then KILL after `seconds`).

    Returns a sentence when it had to be killed; the pid file is removed either way.
    """
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        pid_file.unlink(missing_ok=True)
        return None
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        pid_file.unlink(missing_ok=True)
        return None
    except PermissionError:
        pid_file.unlink(missing_ok=True)
        return f"{pid_file.stem} (process {pid}) belongs to another user; it was left running."
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.1)
    note = None
    if alive(pid):
        os.killpg(pid, signal.SIGKILL)
        note = f"{pid_file.stem} did not stop within {seconds:g} s and was killed."
    pid_file.unlink(missing_ok=True)
    return note
