"""Backtest: retrain before each of several origins and score the days after each one."""

from functools import partial
from typing import Any

import streamlit as st

from lstm_core.config import PRESETS, TrainConfig
from lstm_core.errors import LabError, StoreError
from lstm_core.execution.jobs import TrainingJob
from lstm_core.forecasting.backtest import run_backtest
from lstm_core.forecasting.backtest_results import BacktestResult
from lstm_core.forecasting.folds import (
    BACKTEST_SHARE,
    DEFAULT_FOLDS,
    MAX_FOLDS,
    MIN_FOLDS,
    plan_folds,
)
from lstm_core.forecasting.forecast import DEFAULT_HORIZON, MAX_HORIZON, MIN_HORIZON, check_horizon
from pages.sections import backtest_link
from pages.sections.backtest_view import show_backtest
from pages.shared import jobs, saving, session
from pages.shared.formatting import plain
from pages.shared.interrupted import watch_this_training

session.ensure_navigation()

BACKTEST_JOB_KEY = "backtest_job"
BACKTEST_RESULT_KEY = "backtest_result"
# Where the Train & Predict page keeps its last settings (a bare string here would be drawn).
TRAIN_SETTINGS_KEY = "train_settings"
OWN_SETTINGS = "Your last settings on Train & Predict"
# When the backtest shown was read from the run store: its finish time, else None.
SAVED_KEY = "backtest_saved_at"


def setting_choices() -> dict[str, TrainConfig]:
    """The presets, and the settings last used on Train & Predict when there are any."""
    choices = dict(PRESETS)
    own = st.session_state.get(TRAIN_SETTINGS_KEY)
    if isinstance(own, TrainConfig):
        choices = {OWN_SETTINGS: own, **choices}
    return choices


def start_backtest(config: TrainConfig, folds: int, horizon: int) -> None:
    """Check the settings against the data, then run the backtest in the background."""
    running = st.session_state.get(BACKTEST_JOB_KEY)
    if running is not None and not running.finished:
        st.warning("A backtest is already running. Stop it or wait for it to finish first.")
        return
    series = session.price_data().series(config.ticker)
    try:
        check_horizon(horizon)
        plan_folds(config, len(series), folds)
    except (LabError, ValueError) as error:
        st.error(f"This backtest cannot run: {plain(error)}")
        return
    st.session_state[BACKTEST_JOB_KEY] = TrainingJob(
        config,
        series,
        runner=partial(run_backtest, folds=folds, horizon=horizon, runner=jobs.training_runner()),
        kind="backtest",
        is_connected=jobs.session_connection(),
    ).start()
    watch_this_training(
        st.session_state[BACKTEST_JOB_KEY], what=f"the backtest of {config.label()}"
    )


def collect_backtest() -> None:
    """Keep a finished backtest's result (once); say why one failed."""
    done = st.session_state.get(BACKTEST_JOB_KEY)
    if done is None or not done.finished or done.collected:
        return
    done.collected = True
    if done.state == "failed":
        st.session_state["backtest_error"] = done.error
    else:
        st.session_state[BACKTEST_RESULT_KEY] = done.result
        st.session_state.pop("backtest_error", None)
        st.session_state.pop(SAVED_KEY, None)
        st.session_state[backtest_link.SHOWN_ID_KEY] = None
        if done.result.folds:
            save_backtest(done.result)


def save_backtest(result: BacktestResult) -> None:
    """Keep a backtest in the run store; a failure to save is said in the sidebar."""
    try:
        saved_id = saving.run_store().save_backtest(result, owner=saving.owner())
    except (StoreError, OSError) as error:
        st.session_state[session.STORE_MESSAGE_KEY] = f"This backtest could not be saved: {error}"
    else:
        st.session_state[backtest_link.SHOWN_ID_KEY] = saved_id


def show_saved(backtest_id: int) -> None:
    """Make a saved backtest the one the page shows, at once (nothing retrains)."""
    saved = backtest_link.open_backtest(backtest_id)
    if saved is not None:
        st.session_state[BACKTEST_RESULT_KEY] = saved
        st.session_state[SAVED_KEY] = saved.finished_at


def load_saved_backtest(linked: int | None, choices: dict[int, str]) -> None:
    """On a session's first visit, show the link's saved backtest, else the newest one (it
    survives a restart); later, the one picked in the list of saved backtests."""
    picked = backtest_link.just_picked()
    if picked is not None:
        show_saved(picked)
    elif BACKTEST_RESULT_KEY not in st.session_state and SAVED_KEY not in st.session_state:
        st.session_state[SAVED_KEY] = None
        if linked is not None and linked not in choices:
            st.warning(
                f"Backtest {linked} from this link is not among the saved backtests (it may have "
                "been deleted); showing the newest instead."
            )
        if linked in choices:
            show_saved(linked)
        elif choices:
            show_saved(next(iter(choices)))
    backtest_link.saved_picker(choices)


@st.fragment(run_every=0.5)
def live_backtest() -> None:
    """'Fold k of K', the bar inside the fold, and Stop, redrawn twice a second."""
    running = st.session_state.get(BACKTEST_JOB_KEY)
    if running is None or running.collected:
        return
    running.heartbeat()
    if running.finished:
        st.rerun()
    progress = running.progress
    if running.state == "queued" or progress is None:
        # The same words as every other job: queued behind someone else, or starting up.
        text = jobs.starting_text(running)
    else:
        estimate = running.time_left()
        text = progress.describe(
            None if estimate is None else estimate.text(progress.folds, "folds")
        )
    st.progress(progress.fraction if progress else 0.0, text=text)
    if running.stop_reason:
        st.caption("Stopping; the folds already finished are kept…")
    elif st.button("Stop", key="backtest_stop", help="End now and keep the finished folds."):
        running.request_stop()
        st.caption("Stopping; the folds already finished are kept…")


def backtest_form() -> tuple[TrainConfig, int, int] | None:
    """Ticker, settings, folds and days ahead; the choice when Run was pressed."""
    ticker = session.ticker_select("backtest_ticker")
    choices = setting_choices()
    with st.form("backtest_form"):
        name = st.selectbox(
            "Settings",
            list(choices),
            key="backtest_settings",
            help="A preset, or the settings you last trained with on Train & Predict.",
        )
        folds = st.slider(
            "Folds",
            MIN_FOLDS,
            MAX_FOLDS,
            None if "backtest_folds" in st.session_state else DEFAULT_FOLDS,
            key="backtest_folds",
            help=f"How many blocks the last {BACKTEST_SHARE:.0%} of the history is cut into. "
            "Each trains a model from scratch, so 5 folds take about 5 trainings.",
        )
        horizon = st.slider(
            "Days ahead",
            MIN_HORIZON,
            MAX_HORIZON,
            None if "backtest_horizon" in st.session_state else DEFAULT_HORIZON,
            key="backtest_horizon",
            help="How far ahead each day's forecast goes (each forecast day feeds the next).",
        )
        submitted = st.form_submit_button("Run backtest", type="primary")
    if not submitted:
        return None
    return choices[name].with_changes(ticker=ticker), int(folds), int(horizon)


def main() -> None:
    """The page."""
    st.title("Backtest")
    st.write(
        "One test period is one sample: a model that wins on one year may lose on the next. "
        f"A walk-forward backtest cuts the last {BACKTEST_SHARE:.0%} of the history into blocks; "
        "for each block it trains the model from scratch on every day before it, then "
        "forecasts each day of the block. Every block is scored against repeating yesterday's "
        "price."
    )
    collect_backtest()
    backtest_link.restore_form(list(setting_choices()))
    linked = backtest_link.read_link(list(setting_choices()))
    choices = backtest_link.saved_backtests()
    chosen = backtest_form()
    if chosen is not None:
        start_backtest(*chosen)
    problem = st.session_state.get("backtest_error")
    if problem:
        st.error(f"The backtest could not finish: {plain(problem)}")
    running = st.session_state.get(BACKTEST_JOB_KEY)
    if running is not None and not running.finished:
        live_backtest()
    load_saved_backtest(linked, choices)
    result: Any = st.session_state.get(BACKTEST_RESULT_KEY)
    if result is not None:
        if st.session_state.get(SAVED_KEY):
            st.caption(
                f"Saved backtest #{st.session_state[backtest_link.SHOWN_ID_KEY]}, finished "
                f"{st.session_state[SAVED_KEY]} after {result.seconds:,.1f} s; shown from the run "
                "store (nothing retrained)."
            )
        show_backtest(result)
    elif running is None:
        st.caption("No backtest yet in this session: choose settings above and press Run.")
    backtest_link.keep_address()


main()
