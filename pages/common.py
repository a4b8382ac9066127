"""What every page shares: the price data, the chosen ticker, the training job and its results.

Only `app.py` and the files in `pages/` import Streamlit; this module is imported by them.
It must not import TensorFlow: the Market page renders without it.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from lstm_core import data
from lstm_core.config import TrainConfig
from lstm_core.jobs import TrainingJob

TICKER_KEY = "ticker"
DATA_KEY = "price_data"
JOB_KEY = "training_job"
RESULTS_KEY = "results"
CURRENT_KEY = "current_result"


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
    """Move a finished job's result into the session's results (once)."""
    active = job()
    if active is None or not active.finished or active.collected:
        return
    active.collected = True
    if active.result is not None:
        results()[active.key] = active.result
        st.session_state[CURRENT_KEY] = active.key
        on_run_finished(active.result)


def on_run_finished(result: Any) -> None:
    """Hook for pages that keep runs beyond the session (the run store)."""
    store_hook = st.session_state.get("_store_hook")
    if store_hook is not None:
        store_hook(result)


def start_job(config: TrainConfig, series: pd.Series) -> TrainingJob:
    """Start training `config` in the background and remember the job in this session."""
    new_job = TrainingJob(config, series).start()
    st.session_state[JOB_KEY] = new_job
    return new_job


def describe_progress(active: TrainingJob) -> str:
    """'Epoch 3 of 10 · batch 4 of 5 · about 12 s left' in plain words."""
    progress = active.progress
    if active.state == "queued" or progress is None:
        return "Waiting to start (another training on this server finishes first)…"
    text = (
        f"Epoch {progress.epoch} of {progress.epochs} · "
        f"batch {progress.batch} of {progress.batches}"
    )
    if progress.seconds_left is not None and progress.batch + progress.epoch > 1:
        text += f" · about {progress.seconds_left:,.0f} s left"
    return text


@st.fragment(run_every=1.0)
def _sidebar_job_status() -> None:
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
    st.caption(f"Training {active.config.ticker}: {describe_progress(active)}")
    st.progress(active.progress.fraction if active.progress else 0.0)


def sidebar() -> None:
    """The data source line and the training status, on every page."""
    with st.sidebar:
        st.caption(f"Data: {price_data().description}")
        _sidebar_job_status()
