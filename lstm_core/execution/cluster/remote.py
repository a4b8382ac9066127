"""What runs on a Dask worker: run_training with progress sent back and a stop it polls."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pandas as pd

from lstm_core.config import TrainConfig
from lstm_core.experiments.sweeps import train_task

STOP_POLL_INTERVAL = 0.2
"""The remote stop check asks the scheduler at most this often (each ask is a round trip)."""


BATCH_REPORT_INTERVAL = 0.5
"""Batch progress crosses the network at most this often; every epoch's end always does."""


def remote_training(
    config: TrainConfig,
    series: pd.Series,
    topic: str,
    stop_name: str,
    batch_interval: float = BATCH_REPORT_INTERVAL,
    score_test: bool = True,
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

    result = train_task(
        config, series, progress=progress, should_stop=should_stop, score_test=score_test
    )
    result.cluster_worker = worker.address
    return result
