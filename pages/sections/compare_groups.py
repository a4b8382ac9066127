"""The Compare runs page's seed repeats and lag x batch-size sweep: start a group, show its summary.

Not a page: pages/compare.py calls `seed_section` and `sweep_section`.
"""

import streamlit as st

from lstm_core import charts
from lstm_core.config import TUTORIAL_MODEL_1, TUTORIAL_MODEL_2, TrainConfig
from lstm_core.data import series_fingerprint
from lstm_core.errors import LabError
from lstm_core.execution.jobs import run_key
from lstm_core.experiments import reuse
from lstm_core.experiments import sweeps as experiments
from lstm_core.features import check_inputs
from lstm_core.preprocessing import check_config_fits, check_prices_vary
from pages.sections.compare_seeds import (
    PLAN_KEY,
    planned_counts,
    settings_label,
    show_seed_summary,
)
from pages.shared import jobs, saving, session
from pages.shared.formatting import plain

SEED_CHOICES = [42, 7, 2024, 1, 99]
RETRAIN_KEY = "retrain_saved"


def start_group(configs: list[TrainConfig], kind: str) -> None:
    """Start several runs in the background, after checking that each can train.

    Runs trained before in this session with the same settings, seed and data are reused, as
    the Train page does: repeating a sweep shows it at once instead of training it again.
    """
    active = session.job()
    if active is not None and not active.finished:
        st.warning("A training is already running. Stop it or wait for it to finish first.")
        return
    series = session.price_data().series(configs[0].ticker)
    try:
        for config in configs:
            check_config_fits(len(series), config)
            check_inputs(series, config)
        check_prices_vary(series)
    except LabError as error:
        st.error(f"These settings cannot be trained: {plain(error)}")
        return
    fingerprint = series_fingerprint(series)
    keys = [run_key(config, fingerprint) for config in configs]
    planned: dict[str, int] = {}
    for config in configs:
        planned[settings_label(config)] = planned.get(settings_label(config), 0) + 1
    st.session_state[PLAN_KEY] = {"kind": kind, "planned": planned}
    # Only complete stored runs are reused (reuse.find_stored_runs): a stopped one trains again.
    retrain = bool(st.session_state.get(RETRAIN_KEY))
    reused = set() if retrain else reuse_saved(configs, keys, fingerprint)
    new = [config for index, config in enumerate(configs) if index not in reused]
    sentence = reuse.saved_sentence(len(reused), len(configs))
    if not new:
        st.session_state["last_group"] = {"kind": kind, "keys": keys}
        st.info(sentence)
        return
    if sentence:
        st.info(sentence)
    jobs.start_job(new, series, kind=kind, group_keys=keys)


def reuse_saved(configs: list[TrainConfig], keys: list[str], fingerprint: str) -> set[int]:
    """Which runs of a group need no training: this session's still in the store, or any
    session's complete run of the same config, seed and data (loaded into this session)."""
    known = session.results()
    in_session = [index for index, key in enumerate(keys) if key in known]
    kept, _ = saving.still_saved([known[keys[index]] for index in in_session])
    reused = {index for index in in_session if known[keys[index]] in kept}
    missing = [index for index in range(len(configs)) if index not in reused]
    matches = saving.stored_runs([configs[index] for index in missing], fingerprint)
    if matches is None:
        return reused
    skipped = matches.skipped_sentence()
    if skipped:
        st.warning(skipped)
    for position, run_id in matches.run_ids.items():
        index = missing[position]
        try:
            known[keys[index]] = saving.reopen(run_id)
        except (LabError, ValueError) as error:
            st.warning(str(error))
            continue
        reused.add(index)
    return reused


def show_last_group(kind: str) -> None:
    """The spread over seeds, or the sweep's heatmap, of the last group of runs of `kind`."""
    group = st.session_state.get("last_group")
    if not group or group["kind"] != kind:
        return
    runs = [session.results()[key] for key in group["keys"] if key in session.results()]
    # Computed from the store as it is now: a run deleted in any tab leaves the summary.
    runs, deleted = saving.still_saved(runs)
    if deleted:
        st.caption(
            f"{deleted} run{' of this group was' if deleted == 1 else 's of this group were'} "
            "deleted from the saved runs and left out of this summary."
        )
    if not runs:
        return
    complete = experiments.complete_runs(runs)
    stopped = [run for run in runs if not experiments.is_complete(run)]
    if group["kind"] == "seeds":
        show_seed_summary(complete, planned_counts("seeds"))
    elif group["kind"] == "sweep":
        period = experiments.ranking_period(complete)
        if period == "validation":
            st.markdown("#### Sweep: validation error relative to the baseline")
            st.caption(
                "Coloured by the validation period, the one to tune on; each run's held-out "
                "test figure is in the saved runs' table."
            )
        else:
            st.markdown("#### Sweep: held-out test error relative to the baseline")
            st.caption(
                "These runs have no validation period, so this is the test period: choosing "
                "the best cell here tunes on the test and flatters it. Add a validation share "
                "to tune honestly."
            )
        if complete:
            st.plotly_chart(
                charts.ratio_heatmap(experiments.heatmap_frame(complete, period), period),
                key="heatmap",
            )
    if stopped:
        st.caption(
            "Left out of every mean, cell and verdict, since they did not train to the end: "
            + "; ".join(
                f"{settings_label(run.config)}, seed {run.config.seed}, "
                f"{experiments.stopped_text(run)}"
                for run in stopped
            )
            + "."
        )


def group_progress(kind: str) -> None:
    """The running group's progress right below the buttons that started it."""
    active = session.job()
    if active is not None and not active.finished and active.kind == kind:
        jobs.live_training(kind)


def seed_section() -> None:
    """One click to repeat the tutorial's configs (or the current settings) over seeds."""
    st.subheader("Repeat with several seeds")
    st.write(
        "One run says little: a different random start can change the error a lot. Repeat a "
        "setting with several seeds to see whether a difference is real or luck."
    )
    seed_count = st.slider("Seeds per setting", 2, 5, 3, key="seed_count")
    seeds = SEED_CHOICES[:seed_count]
    st.toggle(
        "Train again even when a run is already saved",
        key=RETRAIN_KEY,
        help="Off: runs with the same settings, seed and data as a saved run are shown from "
        "the store instead of training again (seed repeats and the sweep below).",
    )
    ticker = session.current_ticker()
    model_1 = TUTORIAL_MODEL_1.with_changes(ticker=ticker)
    model_2 = TUTORIAL_MODEL_2.with_changes(ticker=ticker)
    left, middle, right = st.columns(3)
    if left.button(
        f"Tutorial model 1 (batch 200), {seed_count} seeds",
        help=" ".join(["Batch 200: a few large steps per epoch.", saving.measured_help(model_1)]),
    ):
        start_group(experiments.seed_configs(model_1, seeds), "seeds")
    if middle.button(
        f"Tutorial model 2 (batch 1), {seed_count} seeds",
        help=" ".join(
            [
                "Slow: batch 1 makes over a thousand small steps per epoch.",
                saving.measured_help(model_2),
            ]
        ),
    ):
        start_group(experiments.seed_configs(model_2, seeds), "seeds")
    if right.button(
        f"Both tutorial models, {seed_count} seeds",
        help="The tutorial's experiment, done properly. The slowest choice.",
    ):
        configs = experiments.seed_configs(model_1, seeds) + experiments.seed_configs(
            model_2, seeds
        )
        start_group(configs, "seeds")
    settings = st.session_state.get("train_settings")
    if settings is not None and st.button(
        f"Your last settings, {seed_count} seeds", help=settings.label()
    ):
        start_group(experiments.seed_configs(settings, seeds), "seeds")
    group_progress("seeds")
    show_last_group("seeds")


def sweep_section() -> None:
    """A small grid of lag x batch size, short epochs, as a heatmap."""
    st.subheader("Sweep lag and batch size")
    with st.form("sweep_form"):
        lags = st.multiselect("Lags (days)", [10, 20, 30, 60, 90, 120], default=[20, 60])
        batch_sizes = st.multiselect(
            "Batch sizes", [8, 16, 32, 64, 128, 200, 256], default=[32, 200]
        )
        epochs = st.slider("Epochs for each run", 1, 10, 2)
        small = st.toggle("Small model (32/16 units) for speed", value=True)
        learns_changes = st.toggle(
            "Learn daily changes (recommended)",
            value=True,
            help="Off: the tutorial's price levels.",
        )
        validation_fraction = st.select_slider(
            "Validation share (the period the heatmap ranks on)",
            [0.0, 0.05, 0.1, 0.15, 0.2],
            value=0.1,
            help="0 ranks on the held-out test period, which then no longer tests anything.",
        )
        submitted = st.form_submit_button("Run the sweep")
    if submitted:
        if not lags or not batch_sizes:
            st.error("Pick at least one lag and one batch size.")
            return
        base = TrainConfig(
            ticker=session.current_ticker(),
            epochs=epochs,
            target="change" if learns_changes else "level",
            validation_fraction=float(validation_fraction),
        )
        if small:
            base = base.with_changes(units=(32, 16), dense_units=16)
        start_group(experiments.grid_configs(base, lags, batch_sizes), "sweep")
    group_progress("sweep")
    show_last_group("sweep")
