"""A concurrent.futures-style executor on the cluster for groups of runs (seeds, sweeps,
lineups): one config per free worker, results in order, a bounded wait when workers vanish."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from lstm_core.execution.cluster.connection import unreachable_errors
from lstm_core.execution.cluster.runners import RESULT_POLL_INTERVAL, RETRIES, WorkerWatch

LOGGER = logging.getLogger(__name__)


class WatchedExecutor:
    """`map` on the cluster for lstm_core.experiments.sweeps' groups, one config per free worker.

    A task whose worker dies runs again elsewhere (`retries` more times if it raised); results
    keep their order. Unlike Dask's own executor, a wait ends with NoWorkersError once the
    scheduler has had no workers for WORKERS_TIMEOUT s, and the remaining tasks are cancelled.
    """

    def __init__(self, client: Any, retries: int = RETRIES) -> None:
        self.client = client
        self.retries = retries
        self.address = client.scheduler.address

    def map(self, function: Callable[..., Any], *iterables: Iterable[Any]) -> Iterator[Any]:
        """Submit every call at once, then yield the results in order."""
        futures = [
            self.client.submit(function, *arguments, pure=False, retries=self.retries)
            for arguments in zip(*iterables, strict=True)
        ]
        return self._results(futures)

    def _results(self, futures: list[Any]) -> Iterator[Any]:
        watch = WorkerWatch(self.client, self.address)
        try:
            for future in futures:
                while True:
                    try:
                        yield future.result(timeout=RESULT_POLL_INTERVAL)
                        break
                    except TimeoutError:
                        watch.check()
        finally:
            for future in futures:
                try:
                    future.cancel()
                except unreachable_errors():
                    LOGGER.info("could not cancel a task on the cluster")


def cluster_executor(client: Any, retries: int = RETRIES) -> WatchedExecutor:
    """A concurrent.futures-style executor on the cluster (see WatchedExecutor)."""
    return WatchedExecutor(client, retries=retries)
