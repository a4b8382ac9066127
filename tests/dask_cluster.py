"""A real `dask scheduler` and `dask worker` processes on free loopback ports, for tests and bench.

Started the way `make cluster` starts them (one thread per worker, the project on PYTHONPATH,
TensorFlow preloaded), and torn down after. Used by tests/test_cluster.py and
bench/bench_cluster.py.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.streamlit_server import ROOT, free_port

DASK = str(Path(sys.executable).with_name("dask"))
WORKERS_READY_TIMEOUT = 600
"""Seconds to wait for workers to register: each imports TensorFlow first (10-40 s here)."""


class LocalDaskCluster:
    """The scheduler's address and processes (each in its own process group)."""

    def __init__(
        self,
        address: str,
        scheduler: subprocess.Popen,
        workers: list[subprocess.Popen],
        log_folder: Path,
    ) -> None:
        self.address = address
        self.scheduler = scheduler
        self.workers = workers
        self.log_folder = log_folder

    def kill_scheduler(self) -> None:
        """Kill the scheduler at once, as a crashed machine would vanish."""
        os.killpg(self.scheduler.pid, signal.SIGKILL)
        self.scheduler.wait()

    def kill_worker(self, index: int) -> None:
        """Kill one worker and its nanny at once, as a crashed machine would vanish."""
        os.killpg(self.workers[index].pid, signal.SIGKILL)
        self.workers[index].wait()


def _start(arguments: list[str], log: Path, environment: dict[str, str]) -> subprocess.Popen:
    with log.open("wb") as output:
        return subprocess.Popen(
            arguments,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=environment,
            cwd=log.parent,
            start_new_session=True,
        )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextlib.contextmanager
def local_cluster(
    log_folder: Path,
    workers: int = 2,
    project_code: bool = True,
    environment: dict[str, str] | None = None,
    scheduler_code: bool = True,
    preload: bool = True,
) -> Iterator[LocalDaskCluster]:
    """A scheduler and `workers` single-threaded workers; yields once all have registered.

    `project_code=False` starts workers without the project on their path (nor TensorFlow
    preloaded), as a machine without a clone would be; `scheduler_code=False` the scheduler.
    `environment` adds variables; `preload=False` skips TensorFlow's import at start (a
    worker then joins in a second or two, for tests that train nothing on it).
    """
    from distributed import Client

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    bare = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(environment or {})}
    bare.pop("PYTHONPATH", None)
    with_code = {**bare, "PYTHONPATH": str(ROOT)}
    variables = with_code if project_code else bare
    scheduler = _start(
        [
            DASK,
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--dashboard-address",
            f"127.0.0.1:{free_port()}",
        ],
        log_folder / "scheduler.log",
        with_code if scheduler_code else bare,
    )
    started: list[subprocess.Popen] = []
    try:
        worker_arguments = [
            DASK,
            "worker",
            address,
            "--host",
            "127.0.0.1",
            "--nthreads",
            "1",
            "--nworkers",
            "1",
            "--no-dashboard",
        ]
        if project_code and preload:
            worker_arguments += ["--preload", "lstm_core.model.pipeline"]
        for index in range(workers):
            started.append(_start(worker_arguments, log_folder / f"worker-{index}.log", variables))
        with Client(address, timeout=60, set_as_default=False) as client:
            if workers:
                client.wait_for_workers(workers, timeout=WORKERS_READY_TIMEOUT)
        yield LocalDaskCluster(address, scheduler, started, log_folder)
    finally:
        for process in started:
            _stop(process)
        _stop(scheduler)
