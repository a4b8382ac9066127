"""The sidebar every page shows: the data source, the cluster, store problems, the training.

Not a page: app.py draws it around whichever page runs.
"""

from __future__ import annotations

import streamlit as st

from lstm_core.execution import cluster
from pages.shared.formatting import plain
from pages.shared.interrupted import interrupted_notice
from pages.shared.jobs import (
    CLUSTER_DOWN_KEY,
    CLUSTER_NOTE_KEY,
    CLUSTER_WORKERS_KEY,
    JOB_PAGES,
    collect_finished_job,
    describe_progress,
    shows_progress_itself,
    training_runner,
)
from pages.shared.presenting import presenting_toggle
from pages.shared.session import (
    APP_RAN_KEY,
    JOB_PAGE_KEY,
    PAGE_KEY,
    STORE_MESSAGE_KEY,
    job,
    price_data,
)


def sidebar(current_page: str | None = None) -> None:
    """The data source line, and the training status on every page but the one showing it."""
    st.session_state[APP_RAN_KEY] = True
    st.session_state[PAGE_KEY] = current_page
    with st.sidebar:
        presenting_toggle()
        st.caption(f"Data: {plain(price_data().description)}")
        _sidebar_cluster()
        _sidebar_store_problems(current_page)
        interrupted_notice()
        _sidebar_job_status(current_page)


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
    st.caption(f"Training {plain(active.config.ticker)}: {describe_progress(active)}")
    st.progress(active.group_fraction)


def _sidebar_store_problems(current_page: str | None) -> None:
    """A run that could not be saved, or a store replaced by the default, on every page.

    The Compare page shows the store's notice itself. The store is not opened here: the
    Market page needs no database.
    """
    store = st.session_state.get("run_store")
    if store is not None and store.notice and current_page != JOB_PAGES["seeds"]:
        st.warning(plain(store.notice))
    if st.session_state.get(STORE_MESSAGE_KEY):
        st.warning(plain(st.session_state[STORE_MESSAGE_KEY]))


def _sidebar_cluster() -> None:
    """Where training runs when a cluster is configured, its dashboard, and any fall-back."""
    runner = training_runner()
    if runner is not None:
        link = cluster.dashboard_link(runner.client)
        workers = st.session_state.get(CLUSTER_WORKERS_KEY, 0)
        plural = "" if workers == 1 else "s"
        address = plain(runner.address)
        text = f"Training runs on the Dask cluster at {address} ({workers} worker{plural}"
        st.caption(f"{text}, [dashboard]({link}))." if link else f"{text}).")
    for key in (CLUSTER_DOWN_KEY, CLUSTER_NOTE_KEY):
        if st.session_state.get(key):
            st.warning(plain(st.session_state[key]))
