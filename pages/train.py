"""Train & Predict: choose settings, watch the LSTM learn, compare it with the baseline.

The form, the result and the look-ahead are sections in pages/sections/ (train_*.py, look_ahead.py).
"""

import streamlit as st

from lstm_core.config import PRESETS
from pages.sections.lesson_runs import show_preset_reference
from pages.sections.look_ahead import show_look_ahead
from pages.sections.train_form import settings_form, start_or_reuse
from pages.sections.train_link import (
    keep_address,
    load_saved_model,
    open_link_result,
    reopened_note,
)
from pages.sections.train_result import show_result
from pages.sections.train_settings import init_form
from pages.shared import jobs, session
from pages.shared.formatting import plain

session.ensure_navigation()

st.title("Train & Predict")
st.write(
    "Pick settings, press **Train**, and watch the model learn. It is then tested on the last "
    "part of the history it never saw, against the simplest possible forecast: tomorrow's price "
    "equals today's."
)
jobs.collect_finished_job()
init_form()
open_link_result()
chosen = settings_form()
if chosen is not None:
    start_or_reuse(chosen)

active_job = session.job()
if active_job is not None and active_job.state == "failed":
    st.error(f"The last training could not finish: {plain(active_job.error)}")
if active_job is not None and not active_job.finished:
    jobs.live_training("train")

current = session.current_result()
if current is not None:
    training = active_job is not None and not active_job.finished
    if not training:
        reopened_note(current)
    show_result(current, previous=training)
    if not training:
        load_saved_model(current)
        if current.config.extra_inputs:
            st.info(
                "Look ahead: this run also sees "
                f"{', '.join(current.config.extra_inputs)}, which nobody knows for the days "
                "ahead, so it cannot forecast them; train with the close alone to look ahead."
            )
        else:
            show_look_ahead(current)
elif active_job is None or active_job.finished:
    preset = PRESETS.get(st.session_state.get("preset"))
    if preset is None or not show_preset_reference(
        preset.with_changes(ticker=session.current_ticker())
    ):
        st.caption("No model trained yet in this session: choose settings above and press Train.")
keep_address()
