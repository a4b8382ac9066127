"""Training on a Dask cluster: connect, submit, stream progress back, stop, and get results.

Nothing is configured by default and everything then runs in this process. With
`LSTM_LAB_DASK=tcp://HOST:PORT` (or an explicit address) trainings go to that scheduler's
workers, started outside the app (`make cluster`, `make worker`): a Streamlit script must not
start a LocalCluster, whose spawned workers re-import the script (streamlit#4788).

- Progress: the worker logs each epoch (and batches, at most every BATCH_REPORT_INTERVAL s)
  under a topic of its own; `Client.subscribe_topic` hands them to the caller's hook.
- Stop: a named `distributed.Event` that the remote stop check polls; the run ends after the
  current batch and keeps what it trained, as in process.
- Results come back without the live Keras model but with its `.keras` bytes (`model_bytes`,
  what the run store saves).
- A worker that dies mid-training: the scheduler gives the task to another worker (Dask's
  `allowed-failures`, 3 by default); `retries` also reruns a task that raised.

No Streamlit here, and importing this module imports neither TensorFlow nor Dask.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import importlib.util
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import CancelledError
from typing import Any

import pandas as pd

from lstm_core.config import TrainConfig
from lstm_core.errors import LabError
from lstm_core.experiments.sweeps import train_task

LOGGER = logging.getLogger(__name__)

ENVIRONMENT_VARIABLE = "LSTM_LAB_DASK"
"""Where the app and the CLI find the scheduler's address when none is given."""

CONNECT_TIMEOUT = 5.0
"""Seconds to wait for the scheduler before saying it is unreachable."""

RETRIES = 1
"""A task that raised (a worker's memory error, say) runs once more, maybe elsewhere.

A worker that dies is another matter: the scheduler reschedules its tasks itself."""

STOP_POLL_INTERVAL = 0.2
"""The remote stop check asks the scheduler at most this often (each ask is a round trip)."""

BATCH_REPORT_INTERVAL = 0.5
"""Batch progress crosses the network at most this often; every epoch's end always does."""

RESULT_POLL_INTERVAL = 0.1
"""How often the caller looks at its own stop request while the remote run trains."""

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


def remote_training(
    config: TrainConfig,
    series: pd.Series,
    topic: str,
    stop_name: str,
    batch_interval: float = BATCH_REPORT_INTERVAL,
) -> Any:
    """The task a worker runs: `train_task` with progress logged to `topic` and a remote stop.

    Every attempt logs a "start" event first, so the caller can tell a rerun after a worker
    died from the first try.
    """
    from distributed import Event, get_worker

    worker = get_worker()
    worker.log_event(topic, {"kind": "start", "worker": worker.address})
    stop_event = Event(stop_name)
    stop_state = {"asked": float("-inf"), "set": False}
    last_sent = {"at": float("-inf")}

    def should_stop() -> bool:
        now = time.monotonic()
        if not stop_state["set"] and now - stop_state["asked"] >= STOP_POLL_INTERVAL:
            stop_state["asked"] = now
            stop_state["set"] = bool(stop_event.is_set())
        return bool(stop_state["set"])

    def progress(report: Any) -> None:
        now = time.monotonic()
        if report.epoch_finished or report.batch == 0 or now - last_sent["at"] >= batch_interval:
            last_sent["at"] = now
            worker.log_event(topic, {"kind": "progress", "progress": dataclasses.asdict(report)})

    result = train_task(config, series, progress=progress, should_stop=should_stop)
    result.cluster_worker = worker.address
    return result


def _load_progress_type(progress: Callable[[Any], None] | None) -> None:
    """Import lstm_core.model.training (and TensorFlow) in the caller's thread for progress.

    Reports are rebuilt as lstm_core.model.training.Progress in the client's event-loop thread; a
    first import there would hold up every other message for seconds.
    """
    if progress is not None:
        importlib.import_module("lstm_core.model.training")


def _progress_from_message(message: dict[str, Any]) -> Any:
    from lstm_core.model.training import Progress

    values = dict(message)
    values["epoch_losses"] = tuple(values.get("epoch_losses") or ())
    values["epoch_validation_losses"] = tuple(values.get("epoch_validation_losses") or ())
    return Progress(**values)


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
        """`restore_model` loads the returned weights into a Keras model here (the Inside page
        needs one); `fall_back`, when given, trains in this process if the scheduler is lost
        mid-run, and the result says so.
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
    ) -> Any:
        """Submit, relay progress, pass on a stop, and return the RunResult."""
        _load_progress_type(progress)
        try:
            submission = self._submit(config, series)
        except (OSError, RuntimeError) as error:
            lost = SchedulerLostError(
                f"The Dask scheduler at {self.address} did not take the training ({error})."
            )
            return self._lost(config, series, progress, should_stop, lost)
        return self._collect(submission, series, progress, should_stop)

    def group(self, configs: Sequence[TrainConfig], series: pd.Series) -> GroupRunner:
        """A runner for a TrainingJob of several configs that trains them all at once."""
        return GroupRunner(self, configs, series)

    def _submit(self, config: TrainConfig, series: pd.Series) -> _Submission:
        from distributed import Event

        token = uuid.uuid4().hex
        submission = _Submission(config=config, topic=f"lstm-lab-progress-{token}")

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
        except SchedulerLostError as error:
            return self._lost(config, series, progress, should_stop, error)
        finally:
            self._forget(submission)
        if len(submission.starts) > 1:
            result.cluster_note = RERUN_NOTE
            self.notes.append(RERUN_NOTE)
        if self.restore_model and result.model is None and getattr(result, "model_bytes", None):
            from lstm_core.model.network import model_from_bytes
            from lstm_core.model.training import TRAINING_LOCK

            # Keras builds models through global state: two threads at once can fail
            # (tensorflow#33986), and other sessions' jobs load their results too.
            with TRAINING_LOCK:
                result.model = model_from_bytes(result.model_bytes)
        return result

    def _wait(self, future: Any, stop_event: Any, should_stop: Callable[[], bool] | None) -> Any:
        stop_sent = False
        finished = False
        try:
            while True:
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
            except _unreachable_errors():
                LOGGER.info("the stop event %s could not be reached", stop_event.name)

    def _forget(self, submission: _Submission) -> None:
        """Stop listening to a run's progress and let the cluster drop its result."""
        try:
            self.client.unsubscribe_topic(submission.topic)
        except (ValueError, *_unreachable_errors()):
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
        error: SchedulerLostError,
    ) -> Any:
        if self.fall_back is None:
            raise SchedulerLostError(f"{error} Start it again and retry.") from error
        note = f"{error} This run was trained here, on the app's own server, instead."
        LOGGER.warning(note)
        self.notes.append(note)
        result = self.fall_back(config, series, progress=progress, should_stop=should_stop)
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
            _load_progress_type(progress)
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
            except _unreachable_errors():
                LOGGER.info("could not stop %s on the cluster", submission.config.label())
            self.runner._forget(submission)
        self.pending = []


def _unreachable_errors() -> tuple[type[BaseException], ...]:
    """What a call to the scheduler raises once the connection is gone."""
    from distributed.client import ClosedClientError

    return (OSError, RuntimeError, ClosedClientError)


def cluster_executor(client: Any, retries: int = RETRIES) -> Any:
    """A concurrent.futures executor on the cluster for lstm_core.experiments.sweeps' groups.

    `map(train_task, configs, series...)` then runs one config per free worker; a task whose
    worker dies runs again elsewhere. Results keep their order.
    """
    return client.get_executor(retries=retries, pure=False)


def train_here(
    config: TrainConfig,
    series: pd.Series,
    progress: Callable[[Any], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Any:
    """`run_training` in this process: the fall-back when the scheduler is lost mid-run."""
    from lstm_core.model.pipeline import run_training

    return run_training(config, series, progress=progress, should_stop=should_stop)


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


SHARED_CLUSTER = SharedCluster()
"""The app server's connection (the CLI connects per command instead)."""
