"""A training that died with its page server, told to the person when they come back.

Not a page. Only behind nginx (`make room`), where each browser carries a seat cookie: see
lstm_core.experiments.open_trainings.
"""

from __future__ import annotations

import re
import time
from typing import Any

import streamlit as st

from lstm_core.errors import StoreError
from lstm_core.execution.room.proxy import SEAT_COOKIE
from pages.shared.formatting import plain
from pages.shared.saving import run_store
from pages.shared.session import job

SEAT_PATTERN = re.compile(r"^[0-9a-f]{32}$")
INTERRUPTED_KEY = "interrupted_training"
"""The sentence this session shows about a training interrupted on another server."""
CHECKED_KEY = "_open_training_checked"
"""Set once this session knows there is nothing (more) to say."""


def browser_seat() -> str | None:
    """This browser's seat, as nginx set it; None when no room's nginx is in front."""
    seat = st.context.cookies.get(SEAT_COOKIE)
    # Checked as a string: only a value nginx could have made is a seat.
    return seat if isinstance(seat, str) and SEAT_PATTERN.match(seat) else None


def describe_job(active: Any) -> str:
    """How the sentence names a job: its run, or its group's size and first run."""
    if len(active.configs) == 1:
        return active.config.label()
    return f"{len(active.configs)} runs, starting with {active.config.label()}"


def watch_this_training(active: Any, what: str | None = None) -> None:
    """Note this browser's new training (a job with `finished`; `what` names it, else its
    runs do) in the shared store until it ends, behind nginx only."""
    seat = browser_seat()
    if seat is None:
        return
    from lstm_core.experiments.open_trainings import watch_training

    try:
        watch_training(run_store(), seat, what or describe_job(active), lambda: active.finished)
    except StoreError:
        # Only the note is lost: the training itself goes on.
        return


def interrupted_notice() -> None:
    """On every page: say once that this browser's training died with its page server.

    The store is opened only for a browser with a seat, so the Market page of `make run`
    still needs no database.
    """
    if INTERRUPTED_KEY in st.session_state:
        st.warning(st.session_state[INTERRUPTED_KEY])
        return
    seat = None if st.session_state.get(CHECKED_KEY) else browser_seat()
    if seat is None or job() is not None:
        st.session_state[CHECKED_KEY] = True
        return
    from lstm_core.experiments.open_trainings import THIS_SERVER, open_training

    try:
        found = open_training(run_store(), seat)
    except StoreError:
        found = None
    if found is None or found.server == THIS_SERVER:
        st.session_state[CHECKED_KEY] = True
        return
    _await_silence(seat)


@st.fragment(run_every=2.0)
def _await_silence(seat: str) -> None:
    """Ask again until the other server's training ends or has been silent too long."""
    from lstm_core.experiments.open_trainings import SILENT_SECONDS, open_training, record_end

    try:
        found = open_training(run_store(), seat)
    except StoreError:
        found = None
    now = time.time()
    if found is None:
        st.session_state[CHECKED_KEY] = True
        st.rerun()
    elif found.interrupted(now):
        started = time.strftime("%H:%M:%S", time.localtime(found.started_at))
        st.session_state[INTERRUPTED_KEY] = (
            f"Your training ({plain(found.what)}), started at {started}, was interrupted: "
            "the page server running it stopped. Every run saved before is still in the "
            "store (see Compare runs); train it again to get its result."
        )
        try:
            record_end(run_store(), seat, server=found.server)
        except StoreError:
            pass
        st.rerun()
    else:
        st.caption(
            "Checking on the training you started on another page server "
            f"(silent for {found.silent_for(now):.0f} s; it counts as interrupted after "
            f"{SILENT_SECONDS:.0f} s)…"
        )
