"""Training in a background thread that a UI can poll, stop, and leave without losing it.

No Streamlit here: the thread only updates this object, and the page reads it on its reruns.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from lstm_core.config import TrainConfig
from lstm_core.errors import LabError

LOGGER = logging.getLogger(__name__)

HEARTBEAT_TIMEOUT = 8.0
"""A job whose page has not looked at it for this long is stopped: its browser tab is gone."""

CLOSED_TAB = "stopped because its browser tab was closed"
"""The stop reason of a job whose page is gone."""

DISCONNECT_GRACE = 5.0
"""A job whose page has been disconnected this long is stopped (a brief network drop is not)."""


def series_fingerprint(series: pd.Series) -> str:
    """A short hash of a price series' dates and values, to tell whether a result still applies."""
    digest = hashlib.sha256()
    digest.update(np.asarray(series.index.asi8 if hasattr(series.index, "asi8") else []).tobytes())
    digest.update(np.asarray(series.to_numpy(), dtype=np.float64).tobytes())
    return digest.hexdigest()[:16]


def run_key(config: TrainConfig, fingerprint: str) -> str:
    """The key under which a run's result is reused: same config, seed and data."""
    return f"{fingerprint}:{sorted(config.to_dict().items())}"


class TrainingJob:
    """Training runs in their own thread: queued, running, then done, stopped or failed.

    One config is the usual case; several (seeds, a grid) run one after another, and `results`
    collects them. `kind` tells the pages which one started it ("train", "seeds", "sweep").
    """

    def __init__(
        self,
        config: TrainConfig | Sequence[TrainConfig],
        series: pd.Series,
        heartbeat_timeout: float | None = HEARTBEAT_TIMEOUT,
        runner: Callable[..., Any] | None = None,
        kind: str = "train",
        is_connected: Callable[[], bool] | None = None,
        disconnect_grace: float = DISCONNECT_GRACE,
    ) -> None:
        """`is_connected`, when given, tells whether the page that started the job is still
        open; it then replaces the heartbeat, which a browser slows down in a background tab.
        """
        self.configs: tuple[TrainConfig, ...] = (
            (config,) if isinstance(config, TrainConfig) else tuple(config)
        )
        if not self.configs:
            raise ValueError("a job needs at least one config")
        self.config = self.configs[0]
        self.kind = kind
        self.series = series
        self.fingerprint = series_fingerprint(series)
        self.key = run_key(self.config, self.fingerprint)
        self.keys = [run_key(each, self.fingerprint) for each in self.configs]
        self.results: list[Any] = []
        self.run_index = 0
        self.heartbeat_timeout = None if is_connected is not None else heartbeat_timeout
        self.is_connected = is_connected
        self.disconnect_grace = disconnect_grace
        self.last_connected = time.monotonic()
        self.state = "queued"
        self.progress: Any = None
        self.result: Any = None
        self.error: str | None = None
        self.stop_reason: str | None = None
        self.collected = False
        self.created = time.monotonic()
        self.last_heartbeat = time.monotonic()
        self._stop = threading.Event()
        self._runner = runner
        self._thread = threading.Thread(
            target=self._run, name=f"train-{self.config.ticker}", daemon=True
        )

    def start(self) -> TrainingJob:
        """Start the thread and return self."""
        self._thread.start()
        return self

    def heartbeat(self) -> None:
        """Called by the page on each rerun: someone is still watching."""
        self.last_heartbeat = time.monotonic()

    def request_stop(self, reason: str = "stopped by you") -> None:
        """Ask training to end at the next batch; the model trained so far is kept."""
        self.stop_reason = self.stop_reason or reason
        self._stop.set()

    @property
    def finished(self) -> bool:
        """True once the thread has produced a result or an error."""
        return self.state in {"done", "stopped", "failed"}

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the thread ends; True when it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _should_stop(self) -> bool:
        if self.is_connected is not None:
            now = time.monotonic()
            if self.is_connected():
                self.last_connected = now
            elif now - self.last_connected > self.disconnect_grace:
                self.request_stop(CLOSED_TAB)
        if self.heartbeat_timeout is not None:
            if time.monotonic() - self.last_heartbeat > self.heartbeat_timeout:
                self.request_stop(CLOSED_TAB)
        return self._stop.is_set()

    def _on_progress(self, progress: Any) -> None:
        self.state = "running"
        self.progress = progress

    def _run(self) -> None:
        # Imported here so that creating a job (and the page that does it) stays light.
        from lstm_core.pipeline import run_training

        runner = self._runner or run_training
        try:
            for index, config in enumerate(self.configs):
                self.run_index = index
                self.config = config
                result = runner(
                    config, self.series, progress=self._on_progress, should_stop=self._should_stop
                )
                result.data_fingerprint = self.fingerprint
                self.results.append(result)
                if result.stopped:
                    break
        except (LabError, ValueError) as error:
            self.error = str(error)
            self.state = "failed"
            LOGGER.info("training %s failed: %s", self.config.label(), self.error)
            return
        except Exception as error:
            # A thread that dies silently leaves the page waiting forever; report instead.
            # This code never calls Streamlit, so no rerun or stop signal can be swallowed.
            self.error = f"Training failed unexpectedly ({type(error).__name__}: {error})."
            self.state = "failed"
            LOGGER.exception("training %s failed unexpectedly", self.config.label())
            return
        self.result = self.results[-1]
        self.state = "stopped" if self.result.stopped else "done"
        if self.result.stopped:
            LOGGER.info(
                "training %s %s after %d epochs",
                self.config.label(),
                self.stop_reason,
                self.result.epochs_completed,
            )
        else:
            LOGGER.info("training %s done in %.1f s", self.config.label(), self.result.seconds)
