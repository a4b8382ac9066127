"""The Tune page's study view: live progress, the finished study's figures, best trial, test figure.

Not a page: pages/tune.py calls `live_study` and `show_study`.
"""

from typing import Any

import optuna
import pandas as pd
import streamlit as st

from lstm_core.config import MODEL_NAMES
from lstm_core.evaluation.significance import ratio_verdict
from lstm_core.experiments import tuning
from pages.sections.tune_form import storage
from pages.shared import jobs, session
from pages.shared.formatting import plain


@st.fragment(run_every=1.0)
def live_study() -> None:
    """Trial k of N with its progress bar, the history and intermediate values, and Stop."""
    job = session.job()
    if job is None or job.kind != "tune":
        return
    job.heartbeat()
    if job.finished:
        st.rerun()
    progress = job.progress
    st.progress(progress.fraction if progress else 0.0, text=jobs.describe_progress(job))
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
                "trial": row["number"] + 1,
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
    # Optuna numbers trials from 0; people (and the progress bar's "Trial 1 of 20") from 1.
    st.subheader(f"Best trial: trial {summary['number'] + 1}")
    st.write(
        f"Validation error {summary['value']:.3f}x the baseline's (tomorrow = today, on the "
        "model's scale, the figure the pruner watched each epoch), the lowest of the complete "
        "trials. Its settings:"
    )
    st.dataframe(pd.DataFrame([summary["params"]]), hide_index=True)
    config = tuning.best_config(summary)
    if config is not None and st.button(
        "Train this",
        key="tune_train_best",
        help="Open Train & Predict with the best trial's settings filled in.",
    ):
        st.session_state["train_settings"] = config
        st.session_state[session.TICKER_KEY] = config.ticker
        st.switch_page("pages/train.py")
    test = summary.get("test")
    if test is None:
        st.caption(
            "No test figure: the best trial's saved model predicts the test period once, when "
            "the study ends (a trial whose run was deleted from Compare cannot be judged)."
        )
        return
    st.markdown("**Held-out test: the only test figure of this study**")
    comparison = test["comparison"]
    lstm, baseline = test["metrics"]["lstm"], test["metrics"]["persistence"]
    # The model kind may be a searched setting: name the winner's kind, not always "LSTM".
    name = MODEL_NAMES[config.model if config is not None else "lstm"]
    columns = st.columns(3)
    columns[0].metric(
        "Held-out test: error relative to baseline", f"{comparison['rmse_ratio']:.3f}x"
    )
    columns[1].metric(f"Held-out test: {name} RMSE", f"${lstm['rmse']:,.2f}")
    columns[2].metric("Held-out test: baseline RMSE", f"${baseline['rmse']:,.2f}")
    st.info(ratio_verdict(comparison, period="held-out test", decimals=3, model_name=name))
    st.caption(
        f"Test period {test['dates'][0]} to {test['dates'][1]} ({test['n']} days). No trial was "
        "chosen by it: the trials were scored on the validation period before it and never "
        "predicted the test period; only the winner's model did, once, when the study ended."
    )


def show_study(url: str, name: str) -> None:
    """A finished (or stopped) study: its figures, trials, best trial and test figure."""
    study = tuning.stored_study(name, storage(url))
    if study is None:
        st.warning(f"The study {plain(repr(name))} is no longer in the study file.")
        return
    st.header(f"Study {plain(name)}")
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
    budget = tuning.budget_note(study)
    if budget:
        st.caption(budget)
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
    summary = tuning.best_summary(study)
    if summary is None:
        st.caption("No trial completed, so there is no best trial and no test figure.")
    else:
        show_best(summary)
    with st.expander("Every trial"):
        st.dataframe(counts, hide_index=True)
