"""Tune: let Optuna search the settings on the validation period, then judge the best on test.

The form and the study view are in pages/sections/tune_form.py and pages/sections/tune_study.py.
"""

import optuna
import streamlit as st

from lstm_core.errors import LabError
from lstm_core.experiments import tuning
from pages.sections import tune_link
from pages.sections.tune_form import STUDY_KEY, storage, storage_url, study_form
from pages.sections.tune_study import live_study, show_study
from pages.shared import session
from pages.shared.formatting import plain

session.ensure_navigation()
optuna.logging.set_verbosity(optuna.logging.WARNING)

st.title("Tune")
st.write(
    "Let Optuna try settings for you. Each trial trains a model and is scored on the "
    "**validation period** (the days just before the test period) by its error relative to "
    "the simplest forecast, tomorrow = today: below 1 beats it. Hopeless trials are stopped "
    "early. The test period stays unseen until the end, when only the best trial's test "
    "figure is shown."
)
active_job = session.job()
tune_job = active_job if active_job is not None and active_job.kind == "tune" else None
if tune_job is not None and tune_job.state == "failed":
    st.error(f"The study could not finish: {plain(tune_job.error)}")
if tune_job is not None and not tune_job.finished:
    live_study()
else:
    try:
        earlier_studies = tuning.study_names(storage(storage_url()))
    except LabError as error:
        st.error(plain(error))
    else:
        tune_link.open_linked_study(storage_url(), earlier_studies)
        study_form(earlier_studies)
        if tune_job is not None and tune_job.state == "stopped":
            st.info("The study was stopped; its finished trials are kept below.")
        shown = st.session_state.get(STUDY_KEY)
        if shown is not None and (tune_job is None or tune_job.finished):
            show_study(*shown)
tune_link.keep_address()
