"""Compare runs: saved runs side by side, seed repeats, and a small lag x batch-size sweep.

The sections are in pages/sections/compare_runs.py and pages/sections/compare_groups.py.
"""

import streamlit as st

from pages.sections.compare_groups import seed_section, sweep_section
from pages.sections.compare_lineup import lineup_section
from pages.sections.compare_runs import runs_section
from pages.shared import jobs, session
from pages.shared.formatting import plain

session.ensure_navigation()

st.title("Compare runs")
st.write(
    "Every finished or stopped run is saved. Compare their predictions on the same test days, "
    "their loss curves and their settings, and repeat a setting over seeds to tell a real "
    "improvement from luck. Train a model first if the list is empty."
)
jobs.collect_finished_job()
message = st.session_state.pop("compare_message", None)
if message:
    st.success(plain(message))
active_job = session.job()
if active_job is not None and active_job.state == "failed":
    st.error(f"The last training could not finish: {plain(active_job.error)}")
runs_section()
seed_section()
sweep_section()
lineup_section()
