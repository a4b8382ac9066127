"""Small Keras tasks for the workers, so that a page server with a cluster never imports
TensorFlow: warming each worker up, and training the Inside page's comparison SimpleRNN.

The trainings themselves go through runners.py; what they return is turned into a NumPy twin
there (runners.restored_model). Results cross as plain values: bytes and worker addresses.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pandas as pd

from lstm_core.config import TrainConfig
from lstm_core.execution.cluster.connection import (
    translated_errors,
    unreachable_errors,
    worker_addresses,
)
from lstm_core.execution.cluster.runners import (
    RESULT_POLL_INTERVAL,
    RETRIES,
    WorkerWatch,
    restored_model,
)
from lstm_core.preprocessing import PreparedData

LOGGER = logging.getLogger(__name__)

WARM_UP_TIMEOUT = 300.0
"""Seconds the warm-up waits for the workers before it lets go of them (a worker that joins
late, or is busy training, is simply not warmed)."""


def comparison_rnn_task(config: TrainConfig, prepared: PreparedData) -> bytes:
    """On a worker: train the SimpleRNN of `config`'s size on `prepared`; its `.keras` bytes."""
    from lstm_core.model.internals import build_simple_rnn_model
    from lstm_core.model.network import model_to_bytes
    from lstm_core.model.training import train_model

    outcome = train_model(config, prepared, model_builder=build_simple_rnn_model)
    return model_to_bytes(outcome.model)


def warm_up_task(config: TrainConfig, series: pd.Series) -> str:
    """On a worker: import TensorFlow and trace `config`'s model (lstm_core.model.warmup)."""
    from distributed import get_worker

    from lstm_core.model.warmup import warm_up

    warm_up(config, series)
    return get_worker().address


def run_task(client: Any, function: Callable[..., Any], *arguments: Any, what: str) -> Any:
    """`function(*arguments)` on a worker, waited for; ClusterError in one sentence naming
    `what` when the cluster fails (NoWorkersError after WORKERS_TIMEOUT s without workers)."""
    future = client.submit(function, *arguments, pure=False, retries=RETRIES)
    watch = WorkerWatch(client, client.scheduler.address)
    try:
        with translated_errors(client, what):
            while True:
                watch.check()
                try:
                    return future.result(timeout=RESULT_POLL_INTERVAL)
                except TimeoutError:
                    pass
    finally:
        try:
            future.release()
        except unreachable_errors():
            LOGGER.info("could not release %s on the cluster", what)


def comparison_rnn(client: Any, config: TrainConfig, prepared: PreparedData) -> Any:
    """The comparison SimpleRNN trained on a worker, as the model this server uses (a twin)."""
    what = f"training a SimpleRNN ({config.label()})"
    content = run_task(client, comparison_rnn_task, config, prepared, what=what)
    return restored_model(content)


def warm_workers(client: Any, config: TrainConfig, series: pd.Series) -> list[str]:
    """Warm every worker the scheduler has now, once each, and wait (WARM_UP_TIMEOUT at most).

    Returns the workers warmed. A warm-up that fails or runs late only means that worker's
    first training is slower.
    """
    futures = [
        client.submit(
            warm_up_task, config, series, workers=[worker], allow_other_workers=False, pure=False
        )
        for worker in worker_addresses(client)
    ]
    deadline = time.monotonic() + WARM_UP_TIMEOUT
    warmed = []
    for future in futures:
        try:
            warmed.append(future.result(timeout=max(0.0, deadline - time.monotonic())))
        except TimeoutError:
            LOGGER.info("a worker was not warmed up within %g s", WARM_UP_TIMEOUT)
        except Exception:
            # Whatever failed there, only that worker's first training is slower for it.
            LOGGER.exception("warming up a worker failed")
        finally:
            future.release()
    return warmed
