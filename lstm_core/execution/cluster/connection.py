"""The connection to a Dask scheduler: its address, connecting, and errors in one sentence."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
import os
import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError
from typing import Any

from lstm_core.errors import LabError, TrainerLostError
from lstm_core.execution.cluster.code_check import code_fingerprint, other_code_workers

LOGGER = logging.getLogger(__name__)


ENVIRONMENT_VARIABLE = "LSTM_LAB_DASK"
"""Where the app and the CLI find the scheduler's address when none is given."""


CONNECT_TIMEOUT = 5.0
"""Seconds to wait for the scheduler's greeting before saying it is unreachable; setting up the
client and checking the project's code then get as long again."""


WORKERS_TIMEOUT = 30.0
"""Seconds a scheduler may have no workers (before a training, or while one waits) before the
lab says so instead of waiting on."""


HANDSHAKE_LIMIT = 65536
"""Largest greeting a Dask scheduler sends (about 60 bytes); a bigger size is not Dask."""


_ADDRESS = re.compile(r"^tcp://[^\s:/]+:\d{1,5}$")


class ClusterError(LabError):
    """The Dask cluster cannot be used: the message says why and what to do."""


class SchedulerLostError(ClusterError, TrainerLostError):
    """The scheduler stopped answering while work was under way."""


class NoWorkersError(ClusterError, TrainerLostError):
    """The scheduler answers but has had no workers for WORKERS_TIMEOUT seconds."""

    situation = "The Dask scheduler has had no workers"


NO_PROJECT_CODE = (
    "start each worker from a clone of the project with PYTHONPATH set to it (make worker does)"
)


@contextlib.contextmanager
def translated_errors(client: Any, what: str) -> Iterator[None]:
    """Turn Dask's failures while waiting for `what` into one ClusterError sentence each."""
    from distributed.scheduler import KilledWorker

    address = client.scheduler.address
    try:
        yield
    except KilledWorker as error:
        raise ClusterError(
            f"{what} was lost: several Dask workers in turn stopped while running it. "
            "Check the workers' memory and logs, then try again."
        ) from error
    except ModuleNotFoundError as error:
        raise ClusterError(
            f"A Dask worker cannot import LSTM Stock Lab's code ({error}): {NO_PROJECT_CODE}."
        ) from error
    except (CancelledError, OSError) as error:
        # The client cancels every future when it loses the scheduler; an OSError while the
        # client still runs came from the task itself.
        if isinstance(error, OSError) and client.status == "running":
            raise
        raise SchedulerLostError(
            f"The Dask scheduler at {address} stopped answering during {what} "
            f"({type(error).__name__})."
        ) from error


def scheduler_address(explicit: str | None = None) -> str | None:
    """The scheduler to use: `explicit`, else $LSTM_LAB_DASK, else None (train in process).

    A malformed address raises ClusterError naming the expected form.
    """
    address = explicit if explicit is not None else os.environ.get(ENVIRONMENT_VARIABLE, "")
    address = address.strip()
    if not address:
        return None
    if not _ADDRESS.match(address):
        raise ClusterError(
            f"The Dask scheduler address must look like tcp://HOST:PORT (such as "
            f"tcp://10.0.0.5:8786), got {address!r}."
        )
    return address


def _receive(link: socket.socket, size: int, deadline: float) -> bytes:
    """Exactly `size` bytes from `link` before `deadline` (time.monotonic), else TimeoutError."""
    received = bytearray()
    while len(received) < size:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        link.settimeout(left)
        chunk = link.recv(size - len(received))
        if not chunk:
            raise ConnectionResetError("the connection was closed")
        received += chunk
    return bytes(received)


def _greeting(body: bytes) -> dict | None:
    """The scheduler's greeting decoded, or None when `body` is not one."""
    from distributed.protocol.core import loads
    from distributed.protocol.utils import unpack_frames

    try:
        frames, missing = unpack_frames(body, partial=True)
        message = None if missing else loads(frames)
    except Exception:  # any failure to decode means the peer is not Dask (no st here)
        return None
    return message if isinstance(message, dict) and "pickle-protocol" in message else None


def probe(address: str, timeout: float) -> None:
    """Check within `timeout` seconds that `address` greets like a Dask scheduler.

    Dask's own client waits for the greeting without a limit and believes the size it is
    sent (a listener that never answers hangs it; one that sends other bytes makes it try to
    allocate exabytes), so the lab reads the greeting itself first. A scheduler greets first,
    and is sent its own greeting back so that it closes the connection quietly.
    """
    host, port = address.removeprefix("tcp://").rsplit(":", 1)
    deadline = time.monotonic() + timeout
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as link:
            header = _receive(link, 8, deadline)
            (size,) = struct.unpack("<Q", header)
            body = _receive(link, size, deadline) if 0 < size <= HANDSHAKE_LIMIT else b""
            if _greeting(body) is None:
                raise ClusterError(
                    f"The program at {address} is not a Dask scheduler (it answered with "
                    "something else): check the address and port."
                )
            link.sendall(header + body)
    except TimeoutError as error:
        raise ClusterError(
            f"The program at {address} accepted the connection but did not answer as a Dask "
            f"scheduler within {timeout:g} s: check the address and port, or start the "
            "scheduler (make cluster)."
        ) from error
    except OSError as error:
        raise ClusterError(
            f"Cannot reach the Dask scheduler at {address} within {timeout:g} s: start it "
            "(make cluster) or check the address and the network."
        ) from error


def bounded(call: Callable[[], Any], seconds: float, on_late: Callable[[Any], None]) -> Any:
    """`call()` in a thread, given `seconds`; TimeoutError after that.

    A result that arrives late is handed to `on_late` (to close a client no one will use).
    """
    outcome: dict[str, Any] = {}
    lock = threading.Lock()

    def run() -> None:
        try:
            value = call()
        except BaseException as error:  # handed over to the waiting thread
            value, outcome["error"] = None, error
        with lock:
            if outcome.get("abandoned"):
                if value is not None:
                    on_late(value)
                return
            outcome["value"] = value
        finished.set()

    finished = threading.Event()
    threading.Thread(target=run, daemon=True, name="lstm-lab-dask-connect").start()
    if not finished.wait(seconds):
        with lock:
            if not finished.is_set():
                outcome["abandoned"] = True
                raise TimeoutError
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def connect(address: str, timeout: float | None = None) -> Any:
    """A `distributed.Client` on `address`, or ClusterError in one sentence.

    The scheduler's greeting is awaited for `timeout` seconds (CONNECT_TIMEOUT when None),
    setting up the client and checking the project's code for as long again.
    """
    timeout = CONNECT_TIMEOUT if timeout is None else timeout
    probe(address, timeout)
    try:
        return bounded(lambda: _connect_client(address, timeout), 2 * timeout, close_quietly)
    except TimeoutError as error:
        raise ClusterError(
            f"The Dask scheduler at {address} answered but did not finish setting up within "
            f"{2 * timeout:g} s: check that it and its workers are running, then try again."
        ) from error


def close_quietly(client: Any) -> None:
    """Close a client, logging instead of raising when the scheduler is gone."""
    try:
        client.close()
    except (OSError, RuntimeError, TimeoutError):
        LOGGER.info("a late Dask client could not be closed")


def _connect_client(address: str, timeout: float) -> Any:
    from distributed import Client

    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as error:
        raise ClusterError(
            f"Cannot reach the Dask scheduler at {address} within {timeout:g} s: start it "
            "(make cluster) or check the address and the network."
        ) from error
    # A function from the standard library, since the project's own might not unpickle there.
    # The scheduler unpickles each task's arguments too, so it needs the code as well.
    if (
        getattr(client.run_on_scheduler(importlib.util.find_spec, "lstm_core"), "name", None)
        is None
    ):
        client.close()
        raise ClusterError(
            f"The Dask scheduler at {address} cannot import LSTM Stock Lab's code: start it "
            "from a clone of the project with PYTHONPATH set to it (make cluster does)."
        )
    found = client.run(importlib.util.find_spec, "lstm_core", on_error="return")
    missing = [worker for worker, spec in found.items() if getattr(spec, "name", None) is None]
    if missing:
        client.close()
        raise ClusterError(
            f"The Dask worker(s) {', '.join(sorted(missing))} cannot import LSTM Stock Lab's "
            f"code: {NO_PROJECT_CODE}."
        )
    _check_workers_can_serve(client)
    return client


def _check_workers_can_serve(client: Any) -> None:
    """ClusterError, and the client closed, when a worker lacks Keras or runs other code.

    With a cluster the app server imports no TensorFlow: everything that needs Keras runs on
    the workers, so each must have it, and run this server's code (the same `lstm_core` files).
    """
    found = client.run(importlib.util.find_spec, "keras", on_error="return")
    missing = [worker for worker, spec in found.items() if getattr(spec, "name", None) is None]
    if missing:
        client.close()
        raise ClusterError(
            f"The Dask worker(s) {', '.join(sorted(missing))} cannot import Keras, which runs "
            "every model on the cluster: install the project's requirements there (pip install "
            "-r requirements.txt) and restart them (make worker)."
        )
    # A clone whose lstm_core differs in any file (an older one) hashes differently; a
    # failed call counts as other code.
    other = other_code_workers(client.run(code_fingerprint, on_error="return"))
    if other:
        client.close()
        raise ClusterError(
            f"The Dask worker(s) {', '.join(sorted(other))} run another version of LSTM Stock "
            "Lab than this server: update their clone (git pull) and restart them (make worker)."
        )


def dashboard_link(client: Any) -> str | None:
    """The Dask dashboard's address, as the scheduler reports it, or None without one."""
    try:
        return client.dashboard_link
    except (AttributeError, KeyError):
        return None


def worker_count(client: Any, timeout: float | None = None) -> int:
    """How many workers the scheduler has now; ClusterError when it does not say within
    `timeout` seconds (CONNECT_TIMEOUT when None)."""
    return len(worker_addresses(client, timeout))


def worker_addresses(client: Any, timeout: float | None = None) -> list[str]:
    """The scheduler's workers now, by address; ClusterError as `worker_count`."""
    timeout = CONNECT_TIMEOUT if timeout is None else timeout
    # A closed client has no scheduler left to name.
    address = getattr(client.scheduler, "address", None)
    where = f" at {address}" if address else ""
    try:
        # Client.scheduler_info() has no time limit; its own update with one does the same.
        client.sync(client._update_scheduler_info, n_workers=-1, callback_timeout=timeout)
    except (OSError, TimeoutError, *unreachable_errors()) as error:
        raise ClusterError(
            f"The Dask scheduler{where} did not say how many workers it has within {timeout:g} s."
        ) from error
    return list(client._scheduler_identity.get("workers", {}))


def wait_for_workers(client: Any, address: str, timeout: float | None = None) -> None:
    """Return once the scheduler has a worker; NoWorkersError after `timeout` seconds
    (WORKERS_TIMEOUT when None) without one."""
    timeout = WORKERS_TIMEOUT if timeout is None else timeout
    try:
        client.wait_for_workers(1, timeout=timeout)
    except TimeoutError as error:
        raise no_workers_error(address, timeout) from error


def no_workers_error(address: str, seconds: float) -> NoWorkersError:
    """The sentence for a scheduler without workers, and the command line's two ways on.

    `situation` keeps the first half, for a page that trains here instead.
    """
    situation = f"The Dask scheduler at {address} has had no workers for {seconds:g} s"
    error = NoWorkersError(
        f"{situation}: start one (make worker), or train here instead (leave out --scheduler "
        "and unset LSTM_LAB_DASK)."
    )
    error.situation = situation
    return error


def unreachable_errors() -> tuple[type[BaseException], ...]:
    """What a call to the scheduler raises once the connection is gone."""
    from distributed.client import ClosedClientError

    # A closed client's `scheduler` is None, so an Event's set() raises AttributeError.
    return (OSError, RuntimeError, AttributeError, ClosedClientError)
