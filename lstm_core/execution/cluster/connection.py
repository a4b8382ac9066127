"""The connection to a Dask scheduler: its address, connecting, and errors in one sentence."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
import os
import re
from collections.abc import Iterator
from concurrent.futures import CancelledError
from typing import Any

from lstm_core.errors import LabError

LOGGER = logging.getLogger(__name__)


ENVIRONMENT_VARIABLE = "LSTM_LAB_DASK"
"""Where the app and the CLI find the scheduler's address when none is given."""


CONNECT_TIMEOUT = 5.0
"""Seconds to wait for the scheduler before saying it is unreachable."""


_ADDRESS = re.compile(r"^tcp://[^\s:/]+:\d{1,5}$")


class ClusterError(LabError):
    """The Dask cluster cannot be used: the message says why and what to do."""


class SchedulerLostError(ClusterError):
    """The scheduler stopped answering while work was under way."""


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


def connect(address: str, timeout: float | None = None) -> Any:
    """A `distributed.Client` on `address`, or ClusterError in one sentence within `timeout`
    seconds (CONNECT_TIMEOUT when None).
    """
    from distributed import Client

    timeout = CONNECT_TIMEOUT if timeout is None else timeout

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
    return client


def dashboard_link(client: Any) -> str | None:
    """The Dask dashboard's address, as the scheduler reports it, or None without one."""
    try:
        return client.dashboard_link
    except (AttributeError, KeyError):
        return None


def worker_count(client: Any) -> int:
    """How many workers the scheduler has now."""
    return len(client.scheduler_info().get("workers", {}))


def unreachable_errors() -> tuple[type[BaseException], ...]:
    """What a call to the scheduler raises once the connection is gone."""
    from distributed.client import ClosedClientError

    return (OSError, RuntimeError, ClosedClientError)
