"""Reference runs on the Lesson and Train pages: load them, label them, and "Train it live".

Not a page. Nothing here imports TensorFlow: a reference run is read from data/reference/, and
"Train it live" starts the session's usual background job, which loads TensorFlow itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from lstm_core import charts
from lstm_core.config import TrainConfig
from lstm_core.evaluation.significance import format_pvalue, ratio_verdict
from lstm_core.experiments.reference import (
    REFERENCE_CONFIGS,
    ReferenceRun,
    ReferenceRunError,
    load_reference,
    reference_name,
)
from pages.sections.train_form import start_or_reuse
from pages.shared import jobs, session

TRAINED_IN_ADVANCE = "Trained in advance with exactly these settings"
PROGRESS_SHOWN_KEY = "_lesson_progress_shown"
"""Set when the step drawn in this run showed the live training's progress bar itself."""


@st.cache_resource(show_spinner=False)
def _cached_reference(name: str) -> ReferenceRun:
    return load_reference(name)


def references(names: list[str]) -> list[ReferenceRun] | None:
    """Reference runs `names` when they apply to the session's data; else None, said once.

    A missing or damaged file says so; on a person's own prices or a Yahoo refresh the runs
    trained on the snapshot do not apply. Either way the caller offers "Train it live".
    """
    try:
        runs = [_cached_reference(name) for name in names]
    except ReferenceRunError as error:
        st.warning(f"{error} You can train it live instead.")
        return None
    prices = session.price_data()
    for run in runs:
        ticker = run.config.ticker
        if ticker not in prices.tickers() or not run.applies_to(prices.series(ticker)):
            st.info(
                "The runs trained in advance used the bundled snapshot, and this session works "
                "on other prices, so they do not apply here: train it live instead."
            )
            return None
    return runs


def reference(name: str) -> ReferenceRun | None:
    """Reference run `name` when it applies to the session's data (see `references`)."""
    runs = references([name])
    return None if runs is None else runs[0]


@st.fragment(run_every=1.0)
def background_progress() -> None:
    """One line on the other steps while a live training runs (its own step shows the bar)."""
    active = session.job()
    if active is None or active.finished:
        return
    st.caption(
        f"Training live meanwhile ({jobs.describe_progress(active)}); its step shows the result."
    )


def live_config(name: str) -> TrainConfig:
    """The reference config, on the session's data (another ticker if it has no MSFT)."""
    config = REFERENCE_CONFIGS[name]
    tickers = session.price_data().tickers()
    if config.ticker in tickers:
        return config
    return config.with_changes(ticker=session.current_ticker())


def live_results(config: TrainConfig) -> Any | None:
    """This session's latest finished run with exactly `config`, or None."""
    matching = [result for result in session.results().values() if result.config == config]
    return matching[-1] if matching else None


def _job_trains(config: TrainConfig) -> bool:
    active = session.job()
    return active is not None and not active.finished and config in active.configs


def _start(configs: list[TrainConfig]) -> None:
    """Start the configs not yet trained in this session, as the Train page's job would."""
    series = session.price_data().series(configs[0].ticker)
    missing = [config for config in configs if live_results(config) is None]
    if not missing:
        return
    active = session.job()
    if active is not None and not active.finished:
        st.warning("Another training of this session is still running; wait for it first.")
        return
    if len(missing) == 1:
        jobs.start_job(missing[0], series, kind="train")
        return
    # A group of one config over several seeds is what the Compare page calls "seeds"; other
    # groups (the tutorial's two batch sizes) are a small sweep.
    same_but_seed = len({config.with_changes(seed=0) for config in missing}) == 1
    jobs.start_job(missing, series, kind="seeds" if same_but_seed else "sweep")


def train_live(names: list[str], key: str, reference_runs: list[ReferenceRun]) -> None:
    """The "Train it live" button, the usual progress bar, and live beside reference."""
    configs = [live_config(name) for name in names]
    running = any(_job_trains(config) for config in configs)
    done = [live_results(config) for config in configs]
    if not running and any(result is None for result in done):
        label = {1: "Train it live", 2: "Train both live"}.get(
            len(configs), f"Train all {len(configs)} live"
        )
        if st.button(
            label,
            key=f"lesson_live_{key}",
            help="Train the same settings now, on this server, with the usual progress bar.",
        ):
            _start(configs)
            st.rerun()
    if running:
        st.session_state[PROGRESS_SHOWN_KEY] = True
        jobs.live_training(f"lesson_{key}")
        return
    finished = [result for result in done if result is not None]
    if finished:
        # A plain table: drawn at once and legible on a projector (a data grid is a canvas).
        st.table(live_table(reference_runs, finished).set_index("run"))
        sentence = agreement_sentence(reference_runs, finished)
        if sentence:
            st.caption(sentence)


def live_table(reference_runs: list[ReferenceRun], finished: list[Any]) -> pd.DataFrame:
    """Reference and live side by side: the test figures and how long training took."""
    rows = []
    for label, runs in (("trained in advance", reference_runs), ("trained live", finished)):
        for run in runs:
            rows.append(
                {
                    "run": f"{label}, seed {run.config.seed}",
                    "LSTM error (test RMSE)": f"${run.metrics['lstm']['rmse']:,.2f}",
                    "tomorrow = today": f"${run.metrics['persistence']['rmse']:,.2f}",
                    "ratio": f"{run.comparison['rmse_ratio']:.4g}",
                    "Diebold-Mariano": format_pvalue(run.comparison["dm_pvalue"]),
                    "seconds": f"{run.seconds:,.0f}",
                }
            )
    return pd.DataFrame(rows)


def agreement_sentence(reference_runs: list[ReferenceRun], finished: list[Any]) -> str | None:
    """Whether the live runs gave the reference ratios back, to 4 significant digits."""
    pairs = [
        (run, live)
        for run in reference_runs
        for live in finished
        if live.config.with_changes(ticker=run.config.ticker) == run.config
    ]
    if not pairs:
        return None
    same = sum(
        f"{run.comparison['rmse_ratio']:.4g}" == f"{live.comparison['rmse_ratio']:.4g}"
        for run, live in pairs
    )
    if same == len(pairs):
        return (
            "Trained live, the same settings and seed gave the same error ratio to 4 significant "
            "digits."
        )
    return (
        f"{same} of {len(pairs)} live runs gave the reference's error ratio to 4 significant "
        "digits; another machine or library version can round differently in training."
    )


def reference_caption(run: ReferenceRun) -> None:
    """The label every reference run carries: its settings and how long it took to make."""
    st.caption(
        f"{TRAINED_IN_ADVANCE} ({run.config.label()}), on the bundled snapshot; "
        f"training took {run.seconds:,.0f} s."
    )


def training_prices(run: ReferenceRun) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """The snapshot's prices before the run's test period, for the faint line on its chart."""
    series = session.price_data().series(run.config.ticker)
    before = series[series.index < run.test_dates[0]]
    return before.index, before.to_numpy()


def show_preset_reference(config: TrainConfig) -> bool:
    """The Train page: a preset's reference result at once, on the snapshot; False if none.

    Says nothing on other data (the page's own caption then asks for a training).
    """
    name = reference_name(config)
    if name is None:
        return False
    try:
        run = _cached_reference(name)
    except ReferenceRunError as error:
        st.caption(f"{error} Press Train to train it.")
        return False
    if not run.applies_to(session.price_data().series(run.config.ticker)):
        return False
    st.subheader("Result trained in advance")
    reference_caption(run)
    st.markdown(ratio_verdict(run.comparison))
    train_dates, train_values = training_prices(run)
    st.plotly_chart(
        charts.prediction_chart(
            train_dates,
            train_values,
            run.test_dates,
            run.test_series("actual"),
            {"LSTM": run.test_series("predicted")},
            run.test_series("persistence"),
        ),
        key="train_reference_chart",
    )
    if st.button(
        "Train it live",
        key="train_reference_live",
        help="Train the same settings now, with the usual progress bar.",
    ):
        start_or_reuse(config)
        st.rerun()
    return True
