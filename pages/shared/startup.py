"""What app.py sets up around every run: Keras' state, the training log, the warm-up.

Not a page.
"""

from __future__ import annotations

import logging
import os

import pandas as pd

from lstm_core.config import QUICK_DEMO, TrainConfig
from lstm_core.execution import cluster
from lstm_core.model import warmup
from pages.shared.session import current_ticker, price_data


def _skip_keras_cleanup() -> None:
    """Take the place of Streamlit's clean-up after each script run (see keep_keras_state)."""


def keep_keras_state() -> None:
    """Stop Streamlit from calling keras.backend.clear_session() after every script run.

    Streamlit does that whenever keras is imported (script_runner._clean_problem_modules). Here
    models train in background threads while each open page reruns twice a second, so every
    rerun reset Keras' global state under a running training and spent a full gc.collect():
    with four people on one server, training stalled for minutes. The app keeps its memory
    flat without it: lstm_core.model.training reuses one model per architecture.
    """
    from streamlit.runtime.scriptrunner import script_runner

    script_runner._clean_problem_modules = _skip_keras_cleanup


def log_training_events() -> None:
    """Print lstm_core's training events (done, stopped and why, failed) in the server's log.

    Whoever runs the server for a class sees there which trainings ended and why, such as one
    stopped because its browser tab was closed.
    """
    logger = logging.getLogger("lstm_core")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def _warm_the_cluster(config: TrainConfig, series: pd.Series) -> None:
    """Warm each worker of the configured cluster (see cluster.warm_workers)."""
    try:
        runner = cluster.SHARED_CLUSTER.runner(cluster.scheduler_address())
    except cluster.ClusterError:
        # The sidebar says why the cluster is not used; trainings then warm this server.
        return
    if runner is not None:
        cluster.warm_workers(runner.client, config, series)


def warm_up_in_background() -> None:
    """Once the first page is drawn, load TensorFlow and the default preset's model aside.

    With a cluster (LSTM_LAB_DASK) the workers train: they are warmed instead, and this server
    never imports TensorFlow. Only under a real server: AppTest and the command line have no
    person waiting for a first click, and the Market page's test checks that TensorFlow stays
    unimported.
    """
    from streamlit import runtime

    # AppTest's runtime is a MagicMock that passes isinstance(..., Runtime); its type does not.
    if not runtime.exists() or type(runtime.get_instance()) is not runtime.Runtime:
        return
    config = QUICK_DEMO.with_changes(ticker=current_ticker())
    series = price_data().series(config.ticker)
    if os.environ.get(cluster.ENVIRONMENT_VARIABLE, "").strip():
        warmup.start_warm_up(config, series, warm=_warm_the_cluster)
        return
    warmup.start_warm_up(config, series)
