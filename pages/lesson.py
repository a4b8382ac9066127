"""The Lesson: the tutorial's story in ten steps a teacher walks through in ten minutes.

One idea a step, text on the left and one chart or control on the right. The step lives in the
link (?step=4) so a teacher can open at a step and share it. Every run it shows was trained in
advance (data/reference/, made by bench/make_reference_runs.py), so nothing waits and no
TensorFlow is loaded until someone presses "Train it live".
"""

import streamlit as st

from pages.sections.lesson_runs import PROGRESS_SHOWN_KEY, background_progress
from pages.sections.lesson_steps import GUESS_KEY, LAG_KEPT_KEY, STEPS
from pages.shared import jobs, session

STEP_PARAMETER = "step"


def requested_step() -> tuple[int, bool]:
    """The step the link asks for (1-based), and whether the link's value had to be ignored."""
    text = st.query_params.get(STEP_PARAMETER)
    if text is None:
        return 1, False
    try:
        step = int(text.strip())
    except ValueError:
        return 1, True
    if not 1 <= step <= len(STEPS):
        return 1, True
    return step, False


def go_to(step: int) -> None:
    """Move to `step` (a button's callback, so the page draws the new step at once)."""
    st.query_params[STEP_PARAMETER] = str(step)


def start_over() -> None:
    """Back to step 1, the guess and the window slider as a new visitor finds them."""
    for key in (GUESS_KEY, LAG_KEPT_KEY):
        st.session_state.pop(key, None)
    go_to(1)


def navigation_row(step: int, place: str) -> None:
    """Back, the step indicator, Next, and Start over."""
    back, indicator, forward, restart = st.columns([1, 2, 1, 1], vertical_alignment="center")
    back.button(
        "Back",
        key=f"lesson_back_{place}",
        disabled=step == 1,
        on_click=go_to,
        args=(step - 1,),
        icon=":material/arrow_back:",
    )
    indicator.markdown(f"**{step} of {len(STEPS)}**")
    forward.button(
        "Next",
        key=f"lesson_next_{place}",
        disabled=step == len(STEPS),
        on_click=go_to,
        args=(step + 1,),
        type="primary",
        icon=":material/arrow_forward:",
    )
    restart.button("Start over", key=f"lesson_restart_{place}", on_click=start_over)


session.ensure_navigation()
jobs.collect_finished_job()
step, ignored = requested_step()
st.query_params[STEP_PARAMETER] = str(step)
title, draw = STEPS[step - 1]
st.title(f"Lesson · {title}")
if ignored:
    st.info(
        f"The link's step is not a number from 1 to {len(STEPS)}, so the lesson starts at step 1."
    )
navigation_row(step, "top")
st.session_state[PROGRESS_SHOWN_KEY] = False
draw()
if not st.session_state[PROGRESS_SHOWN_KEY]:
    background_progress()
