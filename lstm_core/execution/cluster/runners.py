"""Trainings submitted to the cluster: one run (ClusterRunner) or a group (GroupRunner).

Progress streams back through the client's topic subscription; a lost scheduler falls back
to training here.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from lstm_core.config import TrainConfig
from lstm_core.execution.cluster import connection
from lstm_core.execution.cluster.connection import (
    ClusterError,
    NoWorkersError,
    SchedulerLostError,
    translated_errors,
    unreachable_errors,
)
from lstm_core.execution.cluster.remote import remote_training
from lstm_core.model.progress import TRAINING_LOCK, Progress
from lstm_core.model.twin import cluster_configured, load_model_bytes

LOGGER = logging.getLogger(__name__)


RETRIES = 1
"""A task that raised (a worker's memory error, say) runs once more, maybe elsewhere.

A worker that dies is another matter: the scheduler reschedules its tasks itself."""


RESULT_POLL_INTERVAL = 0.1
"""How often the caller looks at its own stop request while the remote run trains."""


WORKER_CHECK_INTERVAL = 2.0
"""How often a wait for a result asks the scheduler whether it still has workers."""


class WorkerWatch:
    """Raises NoWorkersError once the scheduler has had no workers for WORKERS_TIMEOUT s.

    Without this a task waits for ever on a scheduler whose workers never came or all died.
    """

    def __init__(self, client: Any, address: str) -> None:
        self.client = client
        self.address = address
        self.checked = float("-inf")
        self.empty_since: float | None = None

    def check(self) -> None:
        """Ask the scheduler (at most every WORKER_CHECK_INTERVAL s) and raise when overdue."""
        now = time.monotonic()
        if now - self.checked < WORKER_CHECK_INTERVAL:
            return
        self.checked = now
        try:
            workers = connection.worker_count(self.client)
        except ClusterError:
            # A scheduler that does not answer is the lost-scheduler path's to report.
            return
        if workers:
            self.empty_since = None
            return
        self.empty_since = now if self.empty_since is None else self.empty_since
        if now - self.empty_since >= connection.WORKERS_TIMEOUT:
            raise connection.no_workers_error(self.address, connection.WORKERS_TIMEOUT)


def _progress_from_message(message: dict[str, Any]) -> Progress:

    values = dict(message)
    values["epoch_losses"] = tuple(values.get("epoch_losses") or ())
    values["epoch_validation_losses"] = tuple(values.get("epoch_validation_losses") or ())
    return Progress(**values)


def restored_model(content: bytes) -> Any:
    """A model returned from a worker, as the caller will use it.

    With LSTM_LAB_DASK set (the app server) a network becomes its NumPy twin and TensorFlow is
    never imported here; otherwise (the command line's --scheduler) a Keras model, as before.
    """
    if cluster_configured():
        return load_model_bytes(content, twin=True)
    # Keras builds models through global state: two threads at once can fail
    # (tensorflow#33986), and other sessions' jobs load their results too.
    with TRAINING_LOCK:
        return load_model_bytes(content, twin=False)


RERUN_NOTE = (
    "A cluster worker stopped during this training; the run started again from the beginning "
    "on another worker."
)


@dataclasses.dataclass
class _Submission:
    """One config's task on the cluster: its progress topic, stop event and future."""

    config: TrainConfig
    topic: str
    stop_event: Any = None
    future: Any = None
    starts: list[str] = dataclasses.field(default_factory=list)
    progress: Callable[[Any], None] | None = None
    latest: Any = None
    score_test: bool = True


class ClusterRunner:
    """Trains one config on the cluster with `run_training`'s call, so TrainingJob can use it.

    Many sessions can share one runner (one Client per server): each call has its own progress
    topic and stop event, and the scheduler gives each run a free worker.
    """

    def __init__(
        self,
        client: Any,
        restore_model: bool = True,
        retries: int = RETRIES,
        fall_back: Callable[..., Any] | None = None,
    ) -> None:
        """`restore_model` loads the returned model here (the look-ahead and the Inside page
        need one; see `restored_model`); `fall_back`, when given, trains in this process if
        the scheduler is lost mid-run, and the result says so.
        """
        self.client = client
        self.restore_model = restore_model
        self.retries = retries
        self.fall_back = fall_back
        self.address = client.scheduler.address
        self.notes: list[str] = []

    def __call__(
        self,
        config: TrainConfig,
        series: pd.Series,
        progress: Callable[[Any], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        score_test: bool = True,
    ) -> Any:
        """Submit, relay progress, pass on a stop, and return the RunResult (`score_test` as
        `run_training`'s: a tuning trial's never predicts the test period)."""
        try:
            submission = self._submit(config, series, score_test)
        except (OSError, RuntimeError) as error:
            lost = SchedulerLostError(
                f"The Dask scheduler at {self.address} did not take the training ({error})."
            )
            return self._lost(config, series, progress, should_stop, lost, score_test)
        return self._collect(submission, series, progress, should_stop)

    def group(self, configs: Sequence[TrainConfig], series: pd.Series) -> GroupRunner:
        """A runner for a TrainingJob of several configs that trains them all at once."""
        return GroupRunner(self, configs, series)

    def _submit(
        self, config: TrainConfig, series: pd.Series, score_test: bool = True
    ) -> _Submission:
        from distributed import Event

        token = uuid.uuid4().hex
        submission = _Submission(
            config=config, topic=f"lstm-lab-progress-{token}", score_test=score_test
        )

        def handle(event: tuple[float, dict[str, Any]]) -> None:
            # Runs in the client's event-loop thread; the hook only stores what it is given.
            message = event[1]
            if message.get("kind") == "start":
                submission.starts.append(str(message.get("worker")))
                if len(submission.starts) > 1:
                    LOGGER.info("training %s restarted on %s", config.label(), message["worker"])
            elif message.get("kind") == "progress":
                submission.latest = _progress_from_message(message["progress"])
                if submission.progress is not None:
                    submission.progress(submission.latest)

        self.client.subscribe_topic(submission.topic, handle)
        submission.stop_event = Event(f"lstm-lab-stop-{token}", client=self.client)
        submission.future = self.client.submit(
            remote_training,
            config,
            series,
            submission.topic,
            submission.stop_event.name,
            pure=False,
            retries=self.retries,
            score_test=score_test,
        )
        return submission

    def _collect(
        self,
        submission: _Submission,
        series: pd.Series,
        progress: Callable[[Any], None] | None,
        should_stop: Callable[[], bool] | None,
    ) -> Any:
        config = submission.config
        submission.progress = progress
        if progress is not None and submission.latest is not None:
            progress(submission.latest)
        try:
            with translated_errors(self.client, f"training {config.label()}"):
                result = self._wait(submission.future, submission.stop_event, should_stop)
        except (SchedulerLostError, NoWorkersError) as error:
            return self._lost(config, series, progress, should_stop, error, submission.score_test)
        finally:
            self._forget(submission)
        if len(submission.starts) > 1:
            result.cluster_note = RERUN_NOTE
            self.notes.append(RERUN_NOTE)
        if self.restore_model and result.model is None and getattr(result, "model_bytes", None):
            result.model = restored_model(result.model_bytes)
        return result

    def _wait(self, future: Any, stop_event: Any, should_stop: Callable[[], bool] | None) -> Any:
        stop_sent = False
        finished = False
        watch = WorkerWatch(self.client, self.address)
        try:
            while True:
                watch.check()
                try:
                    result = future.result(timeout=RESULT_POLL_INTERVAL)
                    finished = True
                    return result
                except TimeoutError:
                    pass
                if not stop_sent and should_stop is not None and should_stop():
                    stop_event.set()
                    stop_sent = True
        finally:
            try:
                if finished and stop_sent:
                    # A cleared event leaves nothing behind on the scheduler.
                    stop_event.clear()
                elif not finished and not stop_sent:
                    # Whatever ended the wait, no one is left to use the remote run.
                    stop_event.set()
            except unreachable_errors():
                LOGGER.info("the stop event %s could not be reached", stop_event.name)

    def _forget(self, submission: _Submission) -> None:
        """Stop listening to a run's progress and let the cluster drop its result."""
        try:
            self.client.unsubscribe_topic(submission.topic)
        except (ValueError, *unreachable_errors()):
            LOGGER.info("progress topic %s was already gone", submission.topic)
        # A held future would also be recomputed elsewhere if its worker died later.
        if submission.future is not None:
            submission.future.release()

    def _lost(
        self,
        config: TrainConfig,
        series: pd.Series,
        progress: Callable[[Any], None] | None,
        should_stop: Callable[[], bool] | None,
        error: ClusterError,
        score_test: bool = True,
    ) -> Any:
        if self.fall_back is None:
            if isinstance(error, NoWorkersError):
                raise error
            raise SchedulerLostError(f"{error} Start it again and retry.") from error
        said = f"{error.situation}." if isinstance(error, NoWorkersError) else str(error)
        note = f"{said} This run was trained here, on the app's own server, instead."
        LOGGER.warning(note)
        self.notes.append(note)
        result = self.fall_back(
            config, series, progress=progress, should_stop=should_stop, score_test=score_test
        )
        result.cluster_note = note
        return result


class GroupRunner:
    """Submits every config of a group at first call, then hands TrainingJob each result in order.

    TrainingJob runs a group's configs one after another; through this runner they train at
    once, one per free worker. Progress shown is the current config's (the others' latest
    report is passed on when their turn comes). A stop, a failure or the end of the job stops
    the runs not yet collected.
    """

    def __init__(
        self, runner: ClusterRunner, configs: Sequence[TrainConfig], series: pd.Series
    ) -> None:
        self.runner = runner
        self.configs = list(configs)
        self.series = series
        self.pending: list[_Submission] | None = None

    def __call__(
        self,
        config: TrainConfig,
        series: pd.Series,
        progress: Callable[[Any], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> Any:
        """The next config's result, collected from the cluster (or trained as ClusterRunner)."""
        if self.pending is None:
            self.pending = []
            try:
                for each in self.configs:
                    self.pending.append(self.runner._submit(each, self.series))
            except (OSError, RuntimeError):
                LOGGER.info("could not submit the whole group; its runs go one at a time")
                self.stop_rest()
        if not self.pending or self.pending[0].config != config or series is not self.series:
            return self.runner(config, series, progress=progress, should_stop=should_stop)
        submission = self.pending.pop(0)
        try:
            result = self.runner._collect(submission, series, progress, should_stop)
        except BaseException:
            self.stop_rest()
            raise
        if result.stopped or not self.pending:
            self.stop_rest()
        return result

    def stop_rest(self) -> None:
        """Stop and forget the runs not collected yet; what they trained is not wanted."""
        for submission in self.pending or []:
            try:
                submission.stop_event.set()
                submission.future.cancel()
            except unreachable_errors():
                LOGGER.info("could not stop %s on the cluster", submission.config.label())
            self.runner._forget(submission)
        self.pending = []


def train_here(
    config: TrainConfig,
    series: pd.Series,
    progress: Callable[[Any], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    score_test: bool = True,
) -> Any:
    """`run_training` in this process: the fall-back when the scheduler is lost mid-run."""
    from lstm_core.model.pipeline import run_training

    return run_training(
        config, series, progress=progress, should_stop=should_stop, score_test=score_test
    )
