"""Training jobs as the pages run them: start one, show its live progress, collect its results.

Not a page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from lstm_core import charts
from lstm_core.config import TrainConfig
from lstm_core.execution import cluster
from lstm_core.execution.jobs import TrainingJob
from lstm_core.model import warmup
from pages.shared.interrupted import watch_this_training
from pages.shared.saving import save_run
from pages.shared.session import (
    CURRENT_KEY,
    JOB_KEY,
    JOB_PAGE_KEY,
    PAGE_KEY,
    job,
    results,
)

JOB_PAGES = {
    "train": "Train & Predict",
    "seeds": "Compare runs",
    "sweep": "Compare runs",
    "tune": "Tune",
    "lineup": "Compare runs",
}
"""The page that shows a job's live progress, by its kind, when no page is recorded."""
GROUP_KEY = "_group_keys"
"""Every run key of the group being trained, the reused ones included, in order."""
CLUSTER_NOTE_KEY = "cluster_note"
"""A finished run's word on how the cluster treated it (run again elsewhere, or trained here)."""
CLUSTER_DOWN_KEY = "cluster_unreachable"
CLUSTER_WORKERS_KEY = "cluster_workers"
"""How many workers the cluster had when this page run asked (for the sidebar)."""


def collect_finished_job() -> None:
    """Move a finished job's results into the session's results (once) and save them."""
    active = job()
    if active is None or not active.finished or active.collected:
        return
    active.collected = True
    for key, result in zip(active.keys, active.results, strict=False):
        results()[key] = result
        if getattr(result, "cluster_note", None):
            st.session_state[CLUSTER_NOTE_KEY] = result.cluster_note
        save_run(result, group=None if active.kind == "train" else active.kind)
    if active.results:
        if active.kind == "train":
            st.session_state[CURRENT_KEY] = active.keys[len(active.results) - 1]
        group_keys = st.session_state.pop(GROUP_KEY, None) or active.keys
        st.session_state["last_group"] = {
            "kind": active.kind,
            "keys": [key for key in group_keys if key in results()],
        }


def session_connection() -> Callable[[], bool] | None:
    """A check, safe from any thread, that this session's browser tab is still connected.

    None where no Streamlit server runs (AppTest puts a stand-in there): the job then relies
    on the page's heartbeats.
    """
    from streamlit import runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    context = get_script_run_ctx()
    if context is None or not runtime.exists():
        return None
    server = runtime.get_instance()
    if not isinstance(server, runtime.Runtime):
        return None
    session_id = context.session_id
    return lambda: bool(server.is_active_session(session_id))


def training_runner() -> Callable[..., Any] | None:
    """The Dask cluster's runner when LSTM_LAB_DASK names a reachable scheduler, else None.

    None trains in this process, the default. Why a configured cluster is not used is kept for
    the sidebar to say.
    """
    st.session_state.pop(CLUSTER_DOWN_KEY, None)
    try:
        address = cluster.scheduler_address()
    except cluster.ClusterError as error:
        st.session_state[CLUSTER_DOWN_KEY] = f"{error} Training runs on this server instead."
        return None
    if address is None:
        return None
    runner = cluster.SHARED_CLUSTER.runner(address)
    if runner is None:
        st.session_state[CLUSTER_DOWN_KEY] = (
            f"{cluster.SHARED_CLUSTER.failure} Training runs on this server instead."
        )
        return None
    try:
        workers = cluster.worker_count(runner.client)
    except cluster.ClusterError as error:
        # Not asked again for a while: each page run would wait for it once more.
        cluster.SHARED_CLUSTER.give_up(str(error))
        st.session_state[CLUSTER_DOWN_KEY] = f"{error} Training runs on this server instead."
        return None
    st.session_state[CLUSTER_WORKERS_KEY] = workers
    if workers == 0:
        # A task would wait for a worker that may never come.
        st.session_state[CLUSTER_DOWN_KEY] = (
            f"The Dask scheduler at {address} has no workers, so training runs on this server "
            "until one joins (make worker)."
        )
        return None
    return runner


def start_job(
    config: TrainConfig | list[TrainConfig],
    series: pd.Series,
    kind: str = "train",
    group_keys: list[str] | None = None,
) -> TrainingJob:
    """Start training in the background and remember the job in this session.

    `group_keys`, for a group of which some runs were reused, names every run of the group,
    so its summary shows them all once the new ones have trained. On a Dask cluster (see
    training_runner) a group's configs train at once, one per free worker.
    """
    runner = training_runner()
    if runner is not None and not isinstance(config, TrainConfig) and len(config) > 1:
        runner = runner.group(config, series)
    new_job = TrainingJob(
        config, series, kind=kind, is_connected=session_connection(), runner=runner
    ).start()
    watch_this_training(new_job)
    st.session_state[JOB_KEY] = new_job
    st.session_state[JOB_PAGE_KEY] = st.session_state.get(PAGE_KEY)
    if group_keys is not None:
        st.session_state[GROUP_KEY] = list(group_keys)
    else:
        st.session_state.pop(GROUP_KEY, None)
    return new_job


def starting_text(active: TrainingJob) -> str:
    """Before a job's first progress: queued behind someone else's training, or starting up."""
    if active.waiting_for_another:
        return "Waiting to start (another training on this server finishes first)…"
    if active.loading or warmup.warming_up():
        return "Starting (loading TensorFlow)…"
    return "Starting…"


def describe_progress(active: TrainingJob) -> str:
    """'Run 2 of 4 · epoch 3 of 10 · batch 4 of 5 · about 12 s left' in plain words.

    For a group or a study the time left is the whole job's, from the epochs measured so far
    (estimates.TimeLeft). Before the first progress the job is
    either queued behind someone else's training or starting up (loading TensorFlow,
    building its model), and the words say which.
    """
    progress = active.progress
    group = len(active.configs) > 1
    prefix = f"Run {active.run_index + 1} of {len(active.configs)} · " if group else ""
    if active.kind == "tune":
        prefix = f"Trial {active.trial_index + 1} of {active.n_trials} · "
    if active.state == "queued" or progress is None:
        return prefix + starting_text(active)
    text = prefix + (
        f"epoch {progress.epoch} of {progress.epochs} · "
        f"batch {progress.batch} of {progress.batches}"
    )
    estimate = active.time_left() if group or active.kind == "tune" else None
    if estimate is not None:
        units, noun = (
            (active.n_trials, "trials")
            if active.kind == "tune"
            else (
                len(active.configs),
                "runs",
            )
        )
        text += " · " + estimate.text(units, noun)
    elif not group and active.kind != "tune" and progress.seconds_left is not None:
        text += f" · about {progress.seconds_left:,.0f} s left"
    return text[0].upper() + text[1:]


@st.fragment(run_every=0.5)
def live_training(key_prefix: str) -> None:
    """Progress bar (the whole group's, for several runs) with Stop beside it, and the loss.

    Redrawn twice a second. Pages call it where the person started the training, so the
    progress appears right where they clicked.
    """
    active = job()
    if active is None or active.collected:
        return
    active.heartbeat()
    if active.finished:
        st.rerun()
    progress = active.progress
    bar, stop = st.columns([5, 1], vertical_alignment="bottom")
    bar.progress(active.group_fraction, text=describe_progress(active))
    losses = list(progress.epoch_losses) if progress else []
    validation_losses = list(progress.epoch_validation_losses) if progress else []
    if active.stop_reason:
        stop.caption("Stopping after the current batch…")
    elif stop.button(
        "Stop",
        key=f"{key_prefix}_stop",
        help="End training now and keep the runs trained so far."
        if len(active.configs) > 1
        else "End training now and keep the model trained so far.",
    ):
        active.request_stop()
        stop.caption("Stopping after the current batch…")
    st.plotly_chart(
        charts.loss_chart(
            losses,
            active.config.epochs,
            validation_losses=validation_losses,
            no_skill=active.no_skill_losses(),
        ),
        key=f"{key_prefix}_live_loss",
    )


def shows_progress_itself(job_page: str | None, kind: str, current_page: str | None) -> bool:
    """Whether `current_page` draws the job's progress: the page that started it does.

    Without a recorded page, the page that usually shows a job of that kind.
    """
    return (job_page or JOB_PAGES.get(kind)) == current_page
