"""`streamlit run app.py` on a free loopback port, and Debian's Chromium, for browser tests.

Used by the browser tests and by bench/bench_app.py, so all start the app the same way.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A running app: its address, its process id and where its output goes (if anywhere)."""

    def __init__(self, url: str, pid: int, log: Path | None) -> None:
        self.url, self.pid, self.log = url, pid, log

    def log_tail(self) -> str:
        if self.log is None or not self.log.exists():
            return ""
        return self.log.read_text(errors="replace")[-3000:]


@contextlib.contextmanager
def serve(log: Path | None = None, environment: dict[str, str] | None = None) -> Iterator[Server]:
    """Start the app as `make run` does, wait until it answers, and stop it afterwards.

    The environment is inherited (so the tests' LSTM_LAB_STORE keeps runs/ untouched), with
    `environment` added. Output goes to `log` when given, else nowhere.
    """
    port = free_port()
    variables = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(environment or {})}
    with contextlib.ExitStack() as files:
        output = files.enter_context(log.open("wb")) if log is not None else subprocess.DEVNULL
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                "app.py",
                "--server.headless",
                "true",
                "--server.address",
                "127.0.0.1",
                "--server.port",
                str(port),
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=ROOT,
            env=variables,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as answer:
                    if answer.read() == b"ok":
                        break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("streamlit did not answer on /_stcore/health")
        yield Server(url, process.pid, log)
    finally:
        process.terminate()
        process.wait(timeout=30)
