"""What every page shares: the price data, the chosen ticker, the training job and its results.

Only `app.py` and the files in `pages/` import Streamlit; this module is imported by them.
It must not import TensorFlow: the Market page renders without it.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd
import streamlit as st

from lstm_core import charts, data
from lstm_core.config import QUICK_DEMO, TrainConfig
from lstm_core.errors import StoreError
from lstm_core.execution import cluster
from lstm_core.execution.jobs import TrainingJob
from lstm_core.model import warmup

if TYPE_CHECKING:
    from lstm_core.experiments.store import RunStore

TICKER_KEY = "ticker"
DATA_KEY = "price_data"
JOB_KEY = "training_job"
RESULTS_KEY = "results"
CURRENT_KEY = "current_result"
APP_RAN_KEY = "_app_ran"
STORE_MESSAGE_KEY = "store_message"
PAGE_KEY = "_current_page"
JOB_PAGE_KEY = "_job_page"
"""The page that started the session's job: it shows the job's live progress itself."""
QUICK_DEMO_SECONDS = "5 to 10 seconds"
"""Click to result for the quick demo, first and second training alike (bench/bench_app.py)."""
JOB_PAGES = {
    "train": "Train & Predict",
    "seeds": "Compare runs",
    "sweep": "Compare runs",
    "tune": "Tune",
}
"""The page that shows a job's live progress, by its kind, when no page is recorded."""
GROUP_KEY = "_group_keys"
"""Every run key of the group being trained, the reused ones included, in order."""


def _skip_keras_cleanup() -> None:
    """Take the place of Streamlit's clean-up after each script run (see keep_keras_state)."""


def keep_keras_state() -> None:
    """Stop Streamlit from calling keras.backend.clear_session() after every script run.

    Streamlit does that whenever keras is imported (script_runner._clean_problem_modules). Here
    models train in background threads while each open page reruns twice a second, so every
    rerun reset Keras' global state under a running training and spent a full gc.collect():
    with four people on one server, training stalled for minutes. The app keeps its memory
    flat without it: lstm_core.train reuses one model per architecture.
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


def ensure_navigation() -> None:
    """Make a shared link to a page open the whole app, even as a fresh server's first request.

    With a folder named pages/ beside app.py, Streamlit serves a fresh server's first request
    in its older pages-folder mode, running the linked page alone (no navigation, no sidebar)
    until app.py has once called st.navigation. Leaving that mode and rerunning runs app.py,
    which then routes the link to its page.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        # Once app.py has run in this session there is nothing to fix, and a rerun now would
        # drop the click that started this run.
        if not st.session_state.get(APP_RAN_KEY):
            st.rerun()


@st.cache_data(show_spinner=False)
def _snapshot() -> data.PriceData:
    return data.load_snapshot()


def price_data() -> data.PriceData:
    """The data this session works on: the snapshot until the user refreshes or uploads."""
    if DATA_KEY not in st.session_state:
        cached = data.load_cached()
        st.session_state[DATA_KEY] = cached if cached is not None else _snapshot()
    return st.session_state[DATA_KEY]


def set_price_data(new_data: data.PriceData) -> None:
    """Replace the session's data, keeping the chosen ticker when the new data has it."""
    st.session_state[DATA_KEY] = new_data
    if current_ticker() not in new_data.tickers():
        st.session_state[TICKER_KEY] = new_data.tickers()[0]


def current_ticker() -> str:
    """The ticker chosen on any page; it stays chosen when the user moves between pages."""
    if TICKER_KEY not in st.session_state:
        tickers = price_data().tickers()
        st.session_state[TICKER_KEY] = "MSFT" if "MSFT" in tickers else tickers[0]
    return st.session_state[TICKER_KEY]


def ticker_select(key: str, label: str = "Ticker", help_text: str | None = None) -> str:
    """A ticker selectbox bound to the shared choice (a widget key of its own per page)."""
    tickers = price_data().tickers()
    chosen = current_ticker()

    def remember() -> None:
        st.session_state[TICKER_KEY] = st.session_state[key]

    if st.session_state.get(key) != chosen:
        st.session_state[key] = chosen
    return st.selectbox(
        label,
        tickers,
        key=key,
        on_change=remember,
        format_func=lambda ticker: f"{ticker} · {data.COMPANY_NAMES.get(ticker, ticker)}",
        help=help_text or "The company whose prices the model learns from.",
    )


def job() -> TrainingJob | None:
    """The session's training job, running or finished, if any."""
    return st.session_state.get(JOB_KEY)


def results() -> dict[str, Any]:
    """This session's finished runs, by run key, oldest first."""
    return st.session_state.setdefault(RESULTS_KEY, {})


def current_result() -> Any:
    """The run the Train and Inside pages show, or None."""
    key = st.session_state.get(CURRENT_KEY)
    return results().get(key) if key else None


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


NO_DIRECTION_HELP = (
    "A dash: 'tomorrow = today' never predicts a move up or down, so it has no direction score. "
    "Read direction scores against the share of up days in the test period instead: always "
    "saying 'up' scores exactly that."
)


def format_metric(name: str, value: float | None) -> str:
    """A metric as the result cards print it: dollars to cents, percents to one decimal.

    A missing value (persistence's direction score) is a dash.
    """
    if value is None or pd.isna(value):
        return "\N{EN DASH}"
    if name in {"rmse", "mae"}:
        return f"${value:,.2f}"
    if name == "direction_accuracy":
        return f"{value:.1f}%"
    if name == "mape":
        return f"{value:.2f}%"
    if name == "mase":
        return f"{value:.2f}"
    return f"{value:.4f}"


def owner() -> str:
    """Whose runs this session sees in the store: everyone's locally, or its own when private.

    Set LSTM_LAB_PRIVATE_RUNS=1 when serving a class, so no one sees another's saved runs.
    """
    if os.environ.get("LSTM_LAB_PRIVATE_RUNS") == "1":
        return st.session_state.setdefault("owner", uuid.uuid4().hex)
    return "local"


def run_store() -> RunStore:
    """The run store, opened once per session; its `notice` says what went wrong on opening.

    A damaged SQLite file is set aside; a configured database that cannot be opened (down,
    wrong URL) is replaced by the embedded default for this session. Raises StoreError when
    no store can be opened.
    """
    if "run_store" not in st.session_state:
        # Imported here: SQLAlchemy's import costs the Market page ~0.3 s it does not need.
        from lstm_core.experiments.store import open_run_store

        st.session_state["run_store"] = open_run_store()
    return st.session_state["run_store"]


def save_run(result: Any, group: str | None = None) -> None:
    """Keep a finished run in the store; a failure to save is said in the sidebar, not raised."""
    try:
        result.run_id = run_store().save(result, owner=owner(), group=group)
    except (StoreError, OSError) as error:
        st.session_state[STORE_MESSAGE_KEY] = f"This run could not be saved: {error}"
    else:
        st.session_state.pop(STORE_MESSAGE_KEY, None)


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


CLUSTER_NOTE_KEY = "cluster_note"
"""A finished run's word on how the cluster treated it (run again elsewhere, or trained here)."""
CLUSTER_DOWN_KEY = "cluster_unreachable"


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
    st.session_state[JOB_KEY] = new_job
    st.session_state[JOB_PAGE_KEY] = st.session_state.get(PAGE_KEY)
    if group_keys is not None:
        st.session_state[GROUP_KEY] = list(group_keys)
    else:
        st.session_state.pop(GROUP_KEY, None)
    return new_job


def describe_progress(active: TrainingJob) -> str:
    """'Run 2 of 4 · epoch 3 of 10 · batch 4 of 5 · about 12 s left' in plain words.

    For a group the time left is the whole group's. Before the first progress the job is
    either queued behind someone else's training or starting up (loading TensorFlow,
    building its model), and the words say which.
    """
    progress = active.progress
    group = len(active.configs) > 1
    prefix = f"Run {active.run_index + 1} of {len(active.configs)} · " if group else ""
    if active.kind == "tune":
        prefix = f"Trial {active.trial_index + 1} of {active.n_trials} · "
    if active.state == "queued" or progress is None:
        if active.waiting_for_another:
            return prefix + "Waiting to start (another training on this server finishes first)…"
        if active.loading or warmup.warming_up():
            return prefix + "Starting (loading TensorFlow)…"
        return prefix + "Starting…"
    text = prefix + (
        f"epoch {progress.epoch} of {progress.epochs} · "
        f"batch {progress.batch} of {progress.batches}"
    )
    if group:
        seconds_left = active.group_seconds_left
        if seconds_left is not None:
            text += f" · about {seconds_left:,.0f} s left for all {len(active.configs)} runs"
    elif progress.seconds_left is not None:
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
        charts.loss_chart(losses, active.config.epochs, validation_losses=validation_losses),
        key=f"{key_prefix}_live_loss",
    )


def shows_progress_itself(job_page: str | None, kind: str, current_page: str | None) -> bool:
    """Whether `current_page` draws the job's progress: the page that started it does.

    Without a recorded page, the page that usually shows a job of that kind.
    """
    return (job_page or JOB_PAGES.get(kind)) == current_page


@st.fragment(run_every=1.0)
def _sidebar_job_status(current_page: str | None) -> None:
    active = job()
    if active is None:
        return
    active.heartbeat()
    if active.finished:
        collected = active.collected
        collect_finished_job()
        if not collected:
            st.rerun()
        return
    if shows_progress_itself(st.session_state.get(JOB_PAGE_KEY), active.kind, current_page):
        # That page shows the same progress, twice as often; a second, older copy confuses.
        return
    st.caption(f"Training {active.config.ticker}: {describe_progress(active)}")
    st.progress(active.group_fraction)


def warm_up_in_background() -> None:
    """Once the first page is drawn, load TensorFlow and the default preset's model aside.

    Only under a real server: AppTest and the command line have no person waiting for a
    first click, and the Market page's test checks that TensorFlow stays unimported.
    """
    from streamlit import runtime

    # AppTest's runtime is a MagicMock that passes isinstance(..., Runtime); its type does not.
    if not runtime.exists() or type(runtime.get_instance()) is not runtime.Runtime:
        return
    # With a cluster the workers train, and they load TensorFlow before they join.
    if os.environ.get(cluster.ENVIRONMENT_VARIABLE, "").strip():
        return
    config = QUICK_DEMO.with_changes(ticker=current_ticker())
    warmup.start_warm_up(config, price_data().series(config.ticker))


def sidebar(current_page: str | None = None) -> None:
    """The data source line, and the training status on every page but the one showing it."""
    st.session_state[APP_RAN_KEY] = True
    st.session_state[PAGE_KEY] = current_page
    with st.sidebar:
        st.caption(f"Data: {price_data().description}")
        _sidebar_cluster()
        _sidebar_store_problems(current_page)
        _sidebar_job_status(current_page)


def _sidebar_store_problems(current_page: str | None) -> None:
    """A run that could not be saved, or a store replaced by the default, on every page.

    The Compare page shows the store's notice itself. The store is not opened here: the
    Market page needs no database.
    """
    store = st.session_state.get("run_store")
    if store is not None and store.notice and current_page != JOB_PAGES["seeds"]:
        st.warning(store.notice)
    if st.session_state.get(STORE_MESSAGE_KEY):
        st.warning(st.session_state[STORE_MESSAGE_KEY])


def _sidebar_cluster() -> None:
    """Where training runs when a cluster is configured, its dashboard, and any fall-back."""
    runner = training_runner()
    if runner is not None:
        link = cluster.dashboard_link(runner.client)
        workers = cluster.worker_count(runner.client)
        text = f"Training runs on the Dask cluster at {runner.address} ({workers} workers"
        st.caption(f"{text}, [dashboard]({link}))." if link else f"{text}).")
    for key in (CLUSTER_DOWN_KEY, CLUSTER_NOTE_KEY):
        if st.session_state.get(key):
            st.warning(st.session_state[key])
