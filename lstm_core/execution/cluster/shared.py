"""The app server's one shared connection to the cluster, retried after a failure."""

from __future__ import annotations

import logging
import threading
import time

from lstm_core.execution.cluster.connection import ClusterError, close_quietly, connect
from lstm_core.execution.cluster.runners import ClusterRunner, train_here

LOGGER = logging.getLogger(__name__)


RETRY_AFTER = 60.0
"""Seconds before a server tries an unreachable scheduler again."""


class SharedCluster:
    """One connection per server process, made on first use and shared by every session.

    A failed connection is remembered for RETRY_AFTER seconds, so pages that rerun twice a
    second do not each wait CONNECT_TIMEOUT for a scheduler that is down. Thread-safe.
    """

    def __init__(self, retry_after: float = RETRY_AFTER) -> None:
        self.retry_after = retry_after
        self.failure: str | None = None
        self._runner: ClusterRunner | None = None
        self._address: str | None = None
        self._failed_at = float("-inf")
        self._lock = threading.Lock()

    def runner(self, address: str) -> ClusterRunner | None:
        """The shared runner for `address`, or None (then `failure` says why in a sentence)."""
        with self._lock:
            runner = self._runner
            if runner is not None and self._address == address:
                if runner.client.status == "running":
                    return runner
                runner.client.close()
                self._runner = None
            if self._address == address and time.monotonic() - self._failed_at < self.retry_after:
                return None
            self._address = address
            try:
                client = connect(address)
            except ClusterError as error:
                self.failure = str(error)
                self._failed_at = time.monotonic()
                LOGGER.warning("%s Training runs on this server instead.", error)
                return None
            self.failure = None
            self._runner = ClusterRunner(client, fall_back=train_here)
            LOGGER.info("training on the Dask cluster at %s", address)
            return self._runner

    def give_up(self, failure: str) -> None:
        """Stop using a connected scheduler that no longer answers, for RETRY_AFTER seconds.

        Without this every page run would wait for it again. The client is closed in the
        background: closing a connection to a silent scheduler waits too.
        """
        with self._lock:
            runner, self._runner = self._runner, None
            self.failure = failure
            self._failed_at = time.monotonic()
        if runner is not None:
            threading.Thread(
                target=close_quietly, args=(runner.client,), daemon=True, name="lstm-lab-close"
            ).start()


SHARED_CLUSTER = SharedCluster()
"""The app server's connection (the CLI connects per command instead)."""
