"""Tune: let Optuna search the settings on the validation period, then judge the best on test."""

from typing import Any

import optuna
import pandas as pd
import streamlit as st

from lstm_core.config import BATCH_SIZE_CHOICES, LEARNING_RATE_CHOICES
from lstm_core.errors import LabError
from lstm_core.evaluation.significance import ratio_verdict
from lstm_core.execution.study_job import StudyJob
from lstm_core.experiments import tuning
from lstm_core.preprocessing import check_config_fits
from pages import common

common.ensure_navigation()
optuna.logging.set_verbosity(optuna.logging.WARNING)

STUDY_KEY = "tune_study"  # the study this session shows: (storage URL, study name)
NEW_STUDY = "(a new study)"

# The Train page form's limits, so that "Train this" can show any trial's settings.
RANGE_WIDGETS: dict[str, dict[str, Any]] = {
    "lag": {"widget": "slider", "limits": (2, 250), "searched": True},
    "batch_size": {"widget": "ladder", "options": BATCH_SIZE_CHOICES, "searched": True},
    "epochs": {"widget": "slider", "limits": (1, 100), "searched": False},
    "units_1": {"widget": "slider", "limits": (1, 512), "searched": False},
    "units_2": {"widget": "slider", "limits": (1, 512), "searched": False},
    "learning_rate": {"widget": "ladder", "options": LEARNING_RATE_CHOICES, "searched": True},
    "target": {"widget": None, "searched": False},
}
HELP = {
    "lag": "How many past days the model sees.",
    "batch_size": "How many windows it looks at before each correction.",
    "epochs": "How many passes over the training data.",
    "units_1": "The size of the first LSTM layer's memory.",
    "units_2": "The size of the second LSTM layer's memory.",
    "learning_rate": "How big each correction is.",
    "target": "Try both the price itself and the next day's change.",
}


@st.cache_resource(show_spinner=False)
def storage(url: str) -> optuna.storages.BaseStorage:
    """One storage connection per URL for the whole server."""
    return tuning.open_storage(url)


def storage_url() -> str:
    """Studies live next to the run store."""
    return tuning.study_storage_url(common.run_store())


def study_form(earlier: list[str]) -> None:
    """Choose the ticker, the settings to search and their ranges, trials and time; start."""
    prices = common.price_data()
    tickers = prices.tickers()
    with st.form("tune_form"):
        chosen = st.selectbox(
            "Study",
            [NEW_STUDY, *earlier],
            help="Continue an earlier study: its trials so far stay, and new ones add to them "
            "(with its own ticker and settings).",
        )
        ticker = st.selectbox(
            "Ticker",
            tickers,
            index=tickers.index(common.current_ticker()),
            help="The company whose prices every trial learns from.",
        )
        st.markdown("**Settings to search** (the others stay as in the Recommended preset)")
        ranges: dict[str, Any] = {}
        for name, widget in RANGE_WIDGETS.items():
            setting = tuning.SETTINGS[name]
            left, right = st.columns([1, 2])
            searched = left.checkbox(
                setting.label[0].upper() + setting.label[1:],
                value=widget["searched"],
                key=f"tune_search_{name}",
                help=HELP[name],
            )
            bounds = None
            if widget["widget"] == "slider":
                low, high = widget["limits"]
                bounds = right.slider(
                    f"{setting.label} from / to",
                    low,
                    high,
                    value=(max(low, setting.default[0]), min(high, setting.default[1])),
                    key=f"tune_range_{name}",
                    label_visibility="collapsed",
                )
            elif widget["widget"] == "ladder":
                bounds = right.select_slider(
                    f"{setting.label} from / to",
                    widget["options"],
                    value=setting.default,
                    key=f"tune_range_{name}",
                    label_visibility="collapsed",
                )
            if searched:
                ranges[name] = None if bounds is None else tuple(bounds)
        columns = st.columns(4)
        trials = columns[0].number_input(
            "Trials", 1, 200, value=20, key="tune_trials", help="How many settings to try."
        )
        minutes = columns[1].number_input(
            "Time budget (minutes, 0 = none)",
            0.0,
            600.0,
            value=0.0,
            step=1.0,
            key="tune_minutes",
            help="No new trial starts after this time; the running one finishes.",
        )
        epochs = columns[2].number_input(
            "Epochs per trial (when not searched)",
            1,
            100,
            value=tuning.DEFAULT_BASE.epochs,
            key="tune_epochs",
        )
        seed = columns[3].number_input(
            "Seed",
            0,
            2**31 - 1,
            value=tuning.DEFAULT_BASE.seed,
            key="tune_seed",
            help="The same seed and settings give the same trials.",
        )
        submitted = st.form_submit_button("Start the study", type="primary")
    if not submitted:
        return
    active = common.job()
    if active is not None and not active.finished:
        st.warning("A training is already running. Stop it or wait for it to finish first.")
        return
    try:
        plan = None
        name = chosen
        if chosen == NEW_STUDY:
            base = tuning.DEFAULT_BASE.with_changes(
                ticker=ticker, epochs=int(epochs), seed=int(seed)
            )
            plan = tuning.StudyPlan(base=base, space=tuning.SearchSpace.of(ranges), seed=int(seed))
            name = tuning.new_study_name(ticker, earlier)
            check_config_fits(len(prices.series(ticker)), base)
        else:
            stored = tuning.stored_study(name, storage(storage_url()))
            ticker = tuning.StudyPlan.from_attrs(stored.user_attrs, name).base.ticker
        job = StudyJob(
            name,
            plan,
            prices.series(ticker),
            trials=int(trials),
            timeout=float(minutes) * 60 if minutes else None,
            storage_url=storage_url(),
            store=common.run_store(),
            owner=common.owner(),
            is_connected=common.session_connection(),
        )
    except (ValueError, LabError) as error:
        st.error(f"This study cannot start: {error}")
        return
    st.session_state[common.JOB_KEY] = job.start()
    st.session_state[common.JOB_PAGE_KEY] = st.session_state.get(common.PAGE_KEY)
    st.session_state[STUDY_KEY] = (job.storage_url, name)
    st.rerun()


@st.fragment(run_every=1.0)
def live_study() -> None:
    """Trial k of N with its progress bar, the history and intermediate values, and Stop."""
    job = common.job()
    if job is None or job.kind != "tune":
        return
    job.heartbeat()
    if job.finished:
        st.rerun()
    progress = job.progress
    st.progress(progress.fraction if progress else 0.0, text=common.describe_progress(job))
    if job.stop_reason:
        st.caption("Stopping the current trial; the finished trials stay in the study…")
    elif st.button(
        "Stop", key="tune_stop", help="End the study now; the finished trials are kept."
    ):
        job.request_stop()
        st.caption("Stopping the current trial; the finished trials stay in the study…")
    live_figures(job.study)


def live_figures(study: optuna.Study) -> None:
    """The history and per-epoch values, once a trial has finished."""
    finished = [trial for trial in study.get_trials(deepcopy=False) if trial.state.is_finished()]
    if not finished:
        st.caption("The charts appear when the first trial has finished.")
        return
    left, right = st.columns(2)
    left.plotly_chart(tuning.history_figure(study), key="tune_history")
    right.plotly_chart(tuning.intermediate_figure(study), key="tune_intermediate")


def trials_table(study: optuna.Study) -> pd.DataFrame:
    """One row per finished trial, in plain words."""
    rows = []
    for row in tuning.trial_rows(study):
        rows.append(
            {
                "trial": row["number"],
                "state": {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed"}.get(
                    row["state"], row["state"]
                ),
                "validation ratio": row["value"],
                "epochs run": row["epochs_run"],
                **row["params"],
            }
        )
    return pd.DataFrame(rows)


def show_best(summary: dict[str, Any]) -> None:
    """The best trial's settings, a Train this button, and the study's only test figure."""
    st.subheader(f"Best trial: number {summary['number']}")
    st.write(
        f"Validation error {summary['value']:.3f}x the baseline's (tomorrow = today), the "
        "lowest of the complete trials. Its settings:"
    )
    st.dataframe(pd.DataFrame([summary["params"]]), hide_index=True)
    config = tuning.best_config(summary)
    if config is not None and st.button(
        "Train this",
        key="tune_train_best",
        help="Open Train & Predict with the best trial's settings filled in.",
    ):
        st.session_state["train_settings"] = config
        st.session_state[common.TICKER_KEY] = config.ticker
        st.switch_page("pages/train.py")
    test = summary.get("test")
    if test is None:
        return
    st.markdown("**Held-out test: the only test figure of this study**")
    comparison = test["comparison"]
    lstm, baseline = test["metrics"]["lstm"], test["metrics"]["persistence"]
    columns = st.columns(3)
    columns[0].metric(
        "Held-out test: error relative to baseline", f"{comparison['rmse_ratio']:.3f}x"
    )
    columns[1].metric("Held-out test: LSTM RMSE", f"${lstm['rmse']:,.2f}")
    columns[2].metric("Held-out test: baseline RMSE", f"${baseline['rmse']:,.2f}")
    st.info(ratio_verdict(comparison, period="held-out test"))
    st.caption(
        f"Test period {test['dates'][0]} to {test['dates'][1]} ({test['n']} days). No trial was "
        "chosen by it: every trial was scored on the validation period before it, and only "
        "the winner's test figure is shown, once."
    )


def show_study(url: str, name: str) -> None:
    """A finished (or stopped) study: its figures, trials, best trial and test figure."""
    study = tuning.stored_study(name, storage(url))
    if study is None:
        st.warning(f"The study {name!r} is no longer in the study file.")
        return
    st.header(f"Study {name}")
    counts = trials_table(study)
    if counts.empty:
        st.caption("This study has no finished trial yet.")
        return
    states = counts["state"].value_counts()
    st.write(
        f"{len(counts)} trials: {states.get('complete', 0)} complete, "
        f"{states.get('pruned', 0)} pruned (stopped early: hopeless), "
        f"{states.get('failed', 0)} failed or stopped."
    )
    live_figures(study)
    figures = tuning.analysis_figures(study)
    if not figures:
        st.caption(
            "Importances, parallel coordinates and the contour need at least two complete "
            "trials with different settings."
        )
    if "importances" in figures:
        left, right = st.columns(2)
        left.plotly_chart(figures["importances"], key="tune_importances")
        right.plotly_chart(figures["parallel"], key="tune_parallel")
    if "contour" in figures:
        st.plotly_chart(figures["contour"], key="tune_contour")
    summary = tuning.best_summary(study, common.run_store())
    if summary is None:
        st.caption("No trial completed, so there is no best trial and no test figure.")
    else:
        show_best(summary)
    with st.expander("Every trial"):
        st.dataframe(counts, hide_index=True)


st.title("Tune")
st.write(
    "Let Optuna try settings for you. Each trial trains a model and is scored on the "
    "**validation period** (the days just before the test period) by its error relative to "
    "the simplest forecast, tomorrow = today: below 1 beats it. Hopeless trials are stopped "
    "early. The test period stays unseen until the end, when only the best trial's test "
    "figure is shown."
)
active_job = common.job()
tune_job = active_job if active_job is not None and active_job.kind == "tune" else None
if tune_job is not None and tune_job.state == "failed":
    st.error(f"The study could not finish: {tune_job.error}")
if tune_job is not None and not tune_job.finished:
    live_study()
else:
    try:
        earlier_studies = tuning.study_names(storage(storage_url()))
    except LabError as error:
        st.error(str(error))
    else:
        study_form(earlier_studies)
        if tune_job is not None and tune_job.state == "stopped":
            st.info("The study was stopped; its finished trials are kept below.")
        shown = st.session_state.get(STUDY_KEY)
        if shown is not None and (tune_job is None or tune_job.finished):
            show_study(*shown)
