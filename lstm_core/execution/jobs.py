"""Training in a background thread that a UI can poll, stop, and leave without losing it.

No Streamlit here: the thread only updates this object, and the page reads it on its reruns.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from lstm_core.config import TrainConfig
from lstm_core.data import series_fingerprint
from lstm_core.errors import LabError
from lstm_core.execution.estimates import Estimate, TimeLeft, settings_key

LOGGER = logging.getLogger(__name__)

HEARTBEAT_TIMEOUT = 8.0
"""A job whose page has not looked at it for this long is stopped: its browser tab is gone."""

CLOSED_TAB = "stopped because its browser tab was closed"
"""The stop reason of a job whose page is gone."""

DISCONNECT_GRACE = 5.0
"""A job whose page has been disconnected this long is stopped (a brief network drop is not)."""

_UNFINISHED: list[TrainingJob] = []
"""Jobs of this process that have started and not yet ended, oldest first."""
_UNFINISHED_LOCK = threading.Lock()


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
        self.run_seconds: list[float] = []
        self.run_started = time.monotonic()
        self.clock = TimeLeft()
        self.loading = False
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
        self._no_skill: dict[str, dict[str, float | None] | None] = {}
        self._runner = runner
        self._thread = threading.Thread(
            target=self._run, name=f"train-{self.config.ticker}", daemon=True
        )

    def start(self) -> TrainingJob:
        """Start the thread and return self."""
        with _UNFINISHED_LOCK:
            _UNFINISHED.append(self)
        self._thread.start()
        return self

    @property
    def waiting_for_another(self) -> bool:
        """True while another, earlier job of this server is unfinished: this one queues.

        Before its first progress a job may also be loading TensorFlow or building its model;
        only this tells a person the wait is someone else's training.
        """
        with _UNFINISHED_LOCK:
            earlier = _UNFINISHED[: _UNFINISHED.index(self)] if self in _UNFINISHED else []
        return any(not other.finished for other in earlier)

    @property
    def group_fraction(self) -> float:
        """Share of the whole group done, 0..1: finished runs plus the current run's share."""
        done = len(self.results)
        running = self.progress is not None and done == self.run_index
        current = self.progress.fraction if running else 0.0
        return min(1.0, (done + current) / len(self.configs))

    @property
    def group_seconds_left(self) -> float | None:
        """About how long until the last run of the group ends, or None before any estimate."""
        estimate = self.time_left()
        return None if estimate is None else estimate.seconds

    def _unit(self, progress: Any) -> tuple[int, str, Any]:
        """The unit a progress report belongs to: (0-based index, key, training progress).

        A backtest's reports name their fold (and carry the fold's training progress inside).
        """
        if hasattr(progress, "fold"):
            return progress.fold - 1, "fold", progress.inner
        return self.run_index, settings_key(self.config), progress

    def _remaining_units(self) -> list[tuple[str, int]]:
        """The units after the current one, as (key, planned epochs)."""
        progress = self.progress
        if hasattr(progress, "fold"):
            return [("fold", self.config.epochs)] * (progress.folds - progress.fold)
        return [
            (settings_key(config), config.epochs) for config in self.configs[self.run_index + 1 :]
        ]

    def time_left(self) -> Estimate | None:
        """Time left for every run, fold or trial still to come, from the epochs and units
        measured so far on this machine (see estimates.TimeLeft); None before any measure."""
        progress = self.progress
        if progress is None:
            return None
        _, _, inner = self._unit(progress)
        if inner is None:
            return None
        return self.clock.estimate(
            inner, self.config.epochs, self._remaining_units(), time.monotonic()
        )

    def no_skill_losses(self) -> dict[str, float | None] | None:
        """The no-skill loss lines of the run in progress (numpy only, computed once a config).

        None when the config does not fit the series: the training reports that itself.
        """
        key = run_key(self.config, self.fingerprint)
        if key not in self._no_skill:
            from lstm_core.evaluation.baselines import no_skill_losses
            from lstm_core.preprocessing import prepare_config

            try:
                self._no_skill[key] = no_skill_losses(prepare_config(self.series, self.config))
            except (LabError, ValueError):
                self._no_skill[key] = None
        return self._no_skill[key]

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
        unit, key, inner = self._unit(progress)
        self.clock.observe(unit, key, inner, time.monotonic())
        self.progress = progress

    def unregister(self) -> None:
        """Leave the server's queue of unfinished jobs (a job's thread does, when it ends)."""
        with _UNFINISHED_LOCK:
            if self in _UNFINISHED:
                _UNFINISHED.remove(self)

    def _run_each(self) -> None:
        """Each config in turn; a stopped run ends the group."""
        self.loading = True
        # Imported here so that creating a job (and the page that does it) stays light.
        from lstm_core.model.pipeline import run_training

        self.loading = False
        runner = self._runner or run_training
        for index, config in enumerate(self.configs):
            self.run_index = index
            self.config = config
            self.progress = None
            self.run_started = time.monotonic()
            result = runner(
                config, self.series, progress=self._on_progress, should_stop=self._should_stop
            )
            self.run_seconds.append(time.monotonic() - self.run_started)
            result.data_fingerprint = self.fingerprint
            self.results.append(result)
            if result.stopped:
                break

    FAILURE = "Training failed unexpectedly"
    """The sentence a person reads when the job's thread meets an error nobody foresaw."""

    def _subject(self) -> str:
        """How the server's log names this job."""
        return f"training {self.config.label()}"

    def _run(self) -> None:
        try:
            self._run_each()
        except (LabError, ValueError) as error:
            self.error = str(error)
            self.state = "failed"
            LOGGER.info("%s failed: %s", self._subject(), self.error)
            return
        except Exception as error:
            # A thread that dies silently leaves the page waiting forever; report instead.
            # This code never calls Streamlit, so no rerun or stop signal can be swallowed.
            self.error = f"{self.FAILURE} ({type(error).__name__}: {error})."
            self.state = "failed"
            LOGGER.exception("%s failed unexpectedly", self._subject())
            return
        finally:
            self.unregister()
        self._finish()

    def _finish(self) -> None:
        """After the work ended without an error: the last result decides done or stopped."""
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
