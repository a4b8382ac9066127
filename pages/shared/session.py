"""The session's shared state: its keys, the price data, the chosen ticker, the job, the results.

Not a page. It must not import TensorFlow: the Market page renders without it.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from lstm_core import data
from lstm_core.execution.jobs import TrainingJob

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
