"""The Train & Predict page's address: a link or reload shows a saved result at once.

Not a page: pages/train.py calls these. The address holds the settings (config and seed) of
the result shown, or of the form; a link whose settings, seed and data are in the run store
reopens that run without training, and one that is not falls back to its settings.
"""

from typing import Any

import streamlit as st

from lstm_core.config import TrainConfig
from lstm_core.data import series_fingerprint
from lstm_core.errors import LabError, StoreError
from lstm_core.execution.jobs import run_key
from pages.sections.train_settings import SETTINGS_KEY, settings_from_query
from pages.shared import jobs, saving, session

LINK_CHECKED_KEY = "_train_link_checked"
"""Set once this session has looked up the link it opened with, so it is looked up once."""


def saved_result(config: TrainConfig) -> tuple[Any, str | None]:
    """The stored complete run of `config` on this session's data, reopened; else None and,
    when stored runs had to be skipped, the sentence that says why."""
    series = session.price_data().series(config.ticker)
    fingerprint = series_fingerprint(series)
    matches = saving.stored_runs([config], fingerprint)
    if matches is None or 0 not in matches.run_ids:
        return None, None if matches is None else matches.skipped_sentence()
    try:
        result = saving.reopen(matches.run_ids[0])
    except (StoreError, LabError, ValueError, OSError) as error:
        return None, str(error)
    session.results()[run_key(config, fingerprint)] = result
    return result, None


def show(result: Any) -> None:
    """Make `result` the one the page shows."""
    key = run_key(result.config, result.data_fingerprint)
    session.results()[key] = result
    st.session_state[session.CURRENT_KEY] = key


def open_link_result() -> None:
    """On a session's first visit with settings in the address, show their saved run if any.

    The form already holds the link's settings (init_form); here they are looked up in the
    store once. A link to a run that is not saved says so and leaves its settings in the form.
    """
    if st.session_state.get(LINK_CHECKED_KEY):
        return
    st.session_state[LINK_CHECKED_KEY] = True
    if not st.query_params.to_dict() or session.current_result() is not None:
        return
    if settings_from_query()[1] is not None:
        # init_form has said the link's settings could not be used; there is nothing to find.
        return
    config = st.session_state.get(SETTINGS_KEY)
    if not isinstance(config, TrainConfig):
        return
    result, problem = saved_result(config)
    if result is not None:
        show(result)
        return
    if problem:
        st.warning(problem)
    st.info(
        "No saved run has this link's settings on these data, so nothing is shown yet: the "
        "settings are in the form below; press Train to train them."
    )


def keep_address() -> None:
    """Put the shown result's settings (else the form's) in the address, on every visit, so a
    reload or a shared link brings them back."""
    current = session.current_result()
    active = session.job()
    training = active is not None and not active.finished
    # While a training runs, the address names what trains; otherwise what is shown.
    if current is not None and not training:
        config = current.config
    else:
        config = st.session_state.get(SETTINGS_KEY)
    if isinstance(config, TrainConfig):
        wanted = config.to_query()
        if st.query_params.to_dict() != wanted:
            st.query_params.from_dict(wanted)


def reopened_note(result: Any) -> None:
    """For a run read from the store: when it was trained, how long it took, and Train again."""
    if not getattr(result, "reopened", False):
        return
    note, again = st.columns([4, 1], vertical_alignment="center")
    note.info(
        f"Saved run #{result.run_id}: trained {result.finished_at} in {result.seconds:,.1f} s "
        "with these settings, seed and data, and shown from the run store (nothing trained now)."
    )
    if again.button(
        "Train again",
        key="train_again",
        help="Train these settings once more; the new run is saved beside the old one.",
    ):
        active = session.job()
        if active is not None and not active.finished:
            st.warning("A training is already running. Stop it or wait for it to finish first.")
            return
        jobs.start_job(result.config, session.price_data().series(result.config.ticker))
        st.rerun()


def load_saved_model(result: Any) -> None:
    """Give a reopened run its stored model (for the look-ahead and the download), after its
    result is on the page: loading it imports TensorFlow, which takes seconds on a fresh server
    (with a cluster it is read as a NumPy twin instead, without TensorFlow)."""
    if not getattr(result, "reopened", False) or result.model is not None:
        return
    if getattr(result, "model_missing", False):
        return
    try:
        with st.spinner("Loading the saved model for the look-ahead…"):
            result.model = saving.run_store().load_model(result.run_id)
    except (StoreError, ValueError, OSError):
        # The look-ahead then says the run has no model; asking again each rerun would not help.
        result.model_missing = True
