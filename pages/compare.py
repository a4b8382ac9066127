"""Compare runs: saved runs side by side, seed repeats, and a small lag x batch-size sweep."""

from typing import Any

import pandas as pd
import streamlit as st

from lstm_core import charts
from lstm_core.config import TUTORIAL_MODEL_1, TUTORIAL_MODEL_2, TrainConfig
from lstm_core.data import series_fingerprint
from lstm_core.errors import LabError, StoreError
from lstm_core.evaluation.metrics import METRIC_LABELS
from lstm_core.execution.jobs import run_key
from lstm_core.experiments import sweeps as experiments
from lstm_core.preprocessing import check_fits
from pages import common

common.ensure_navigation()

SEED_CHOICES = [42, 7, 2024, 1, 99]


# The metrics the seed table shows, named as on the Train page. (A string here would be drawn
# on the page: Streamlit's magic writes a page script's bare strings.)
SPREAD_METRICS = ("rmse", "mae", "mse_scaled", "direction_accuracy")


def group_by_settings(results: list[Any]) -> dict[str, list[Any]]:
    """Runs that differ only in their seed, grouped under one label."""
    groups: dict[str, list[Any]] = {}
    for result in results:
        config = result.config
        label = (
            f"{config.ticker} lag {config.lag}, batch {config.batch_size}, {config.epochs} epochs"
        )
        groups.setdefault(label, []).append(result)
    return groups


def start_group(configs: list[TrainConfig], kind: str) -> None:
    """Start several runs in the background, after checking that each can train.

    Runs trained before in this session with the same settings, seed and data are reused, as
    the Train page does: repeating a sweep shows it at once instead of training it again.
    """
    active = common.job()
    if active is not None and not active.finished:
        st.warning("A training is already running. Stop it or wait for it to finish first.")
        return
    series = common.price_data().series(configs[0].ticker)
    try:
        for config in configs:
            check_fits(
                len(series),
                config.lag,
                config.train_fraction,
                config.batch_size,
                validation_fraction=config.validation_fraction,
            )
    except LabError as error:
        st.error(f"These settings cannot be trained: {error}")
        return
    fingerprint = series_fingerprint(series)
    keys = [run_key(config, fingerprint) for config in configs]
    new = [config for config, key in zip(configs, keys, strict=True) if key not in common.results()]
    if not new:
        st.session_state["last_group"] = {"kind": kind, "keys": keys}
        st.info(
            f"All {len(configs)} runs were trained before with the same settings, seed and data: "
            "showing them at once."
        )
        return
    if len(new) < len(configs):
        st.info(
            f"{len(configs) - len(new)} of the {len(configs)} runs were trained before with the "
            f"same settings, seed and data; only the other {len(new)} train now."
        )
    common.start_job(new, series, kind=kind, group_keys=keys)


def spread_display(table: pd.DataFrame) -> pd.DataFrame:
    """The seed table as a person reads it: the Train page's metric names and decimals."""
    shown = table[table["metric"].isin(SPREAD_METRICS)].copy()
    for column in ("mean", "std", "min", "max"):
        shown[column] = [
            common.format_metric(name, value)
            for name, value in zip(shown["metric"], shown[column], strict=True)
        ]
    shown["metric"] = shown["metric"].map(METRIC_LABELS)
    return shown


def show_last_group(kind: str) -> None:
    """The spread over seeds, or the sweep's heatmap, of the last group of runs of `kind`."""
    group = st.session_state.get("last_group")
    if not group or group["kind"] != kind:
        return
    runs = [common.results()[key] for key in group["keys"] if key in common.results()]
    if not runs:
        return
    if group["kind"] == "seeds":
        st.markdown("#### Seed repeats: mean and spread")
        groups = group_by_settings(runs)
        for label, members in groups.items():
            st.markdown(f"**{label}**, {len(members)} seeds")
            st.dataframe(
                spread_display(experiments.spread_table(members)),
                hide_index=True,
                column_config={"mean": st.column_config.TextColumn(help=common.NO_DIRECTION_HELP)},
            )
        if len(groups) == 2:
            (first_label, first), (second_label, second) = groups.items()
            st.info(experiments.difference_verdict(first, second, (first_label, second_label)))
        baseline = runs[0].metrics["persistence"]["rmse"]
        st.info(
            f"'Tomorrow = today' has a held-out test RMSE of ${baseline:,.2f}. "
            + experiments.group_verdict(groups)
        )
    elif group["kind"] == "sweep":
        period = experiments.ranking_period(runs)
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
        st.plotly_chart(
            charts.ratio_heatmap(experiments.heatmap_frame(runs, period), period), key="heatmap"
        )


def group_progress(kind: str) -> None:
    """The running group's progress right below the buttons that started it."""
    active = common.job()
    if active is not None and not active.finished and active.kind == kind:
        common.live_training(kind)


def seed_section() -> None:
    """One click to repeat the tutorial's configs (or the current settings) over seeds."""
    st.subheader("Repeat with several seeds")
    st.write(
        "One run says little: a different random start can change the error a lot. Repeat a "
        "setting with several seeds to see whether a difference is real or luck."
    )
    seed_count = st.slider("Seeds per setting", 2, 5, 3, key="seed_count")
    seeds = SEED_CHOICES[:seed_count]
    ticker = common.current_ticker()
    model_1 = TUTORIAL_MODEL_1.with_changes(ticker=ticker)
    model_2 = TUTORIAL_MODEL_2.with_changes(ticker=ticker)
    left, middle, right = st.columns(3)
    if left.button(
        f"Tutorial model 1 (batch 200), {seed_count} seeds",
        help="Fast: about a minute per seed here.",
    ):
        start_group(experiments.seed_configs(model_1, seeds), "seeds")
    if middle.button(
        f"Tutorial model 2 (batch 1), {seed_count} seeds",
        help="Slow: batch 1 makes over a thousand small steps per epoch (minutes per seed).",
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
            ticker=common.current_ticker(),
            epochs=epochs,
            target="change" if learns_changes else "level",
            validation_fraction=float(validation_fraction),
        )
        if small:
            base = base.with_changes(units=(32, 16), dense_units=16)
        start_group(experiments.grid_configs(base, lags, batch_sizes), "sweep")
    group_progress("sweep")
    show_last_group("sweep")


def epochs_text(epochs: int, done: int, stopped: bool) -> str:
    """'50', or '10 of 50 (stopped)' for a run stopped early."""
    return f"{done} of {epochs} (stopped)" if stopped else str(epochs)


def runs_display(table: pd.DataFrame) -> pd.DataFrame:
    """The saved-runs table as shown: a stopped run's epochs say so in the epochs column."""
    shown = table.drop(columns=["stopped", "epochs done"])
    shown["epochs"] = [
        epochs_text(int(epochs), int(done), bool(stopped))
        for epochs, done, stopped in zip(
            table["epochs"], table["epochs done"], table["stopped"], strict=True
        )
    ]
    return shown


def overlay_section(chosen: list[Any]) -> None:
    """The chosen runs' predictions over the real prices: one chart per company.

    Runs of different companies on one chart would draw one company's predictions over
    another's prices.
    """
    by_ticker: dict[str, list[Any]] = {}
    for run in chosen:
        by_ticker.setdefault(run.config.ticker, []).append(run)
    if len(by_ticker) > 1:
        st.caption("The chosen runs are for different companies: one chart for each.")
    for ticker, runs in by_ticker.items():
        first = runs[0]
        predictions = {
            f"#{run.run_id} batch {run.config.batch_size}, seed {run.config.seed}"
            + (
                f", {run.epochs_completed} of {run.config.epochs} epochs (stopped)"
                if run.stopped
                else ""
            ): pd.Series(run.predicted, index=run.test_dates).reindex(first.test_dates).to_numpy()
            for run in runs
        }
        st.plotly_chart(
            charts.prediction_chart(
                pd.DatetimeIndex([]),
                [],
                first.test_dates,
                first.actual,
                predictions,
                first.persistence,
                title=f"{ticker}: chosen runs on the same test days",
            ),
            key=f"compare_overlay_{ticker}",
        )


def runs_section() -> None:
    """The saved runs: a sortable table, overlays of the selected ones, and deletion."""
    try:
        store = common.run_store()
        if store.notice:
            st.warning(store.notice)
        table = store.table(owner=common.owner())
    except StoreError as error:
        st.error(str(error))
        return
    st.subheader("Saved runs")
    if table.empty:
        st.info(
            "No runs yet. Train a model on the Train & Predict page, or use the buttons below: "
            "every finished or stopped run is saved here."
        )
        return
    st.caption("Click column headers to sort; tick rows to compare them.")
    selection = st.dataframe(
        runs_display(table),
        hide_index=True,
        on_select="rerun",
        selection_mode="multi-row",
        key="runs_table",
        column_config={
            "LSTM RMSE ($)": st.column_config.NumberColumn(format="%.2f"),
            "baseline RMSE ($)": st.column_config.NumberColumn(format="%.2f"),
            "LSTM / baseline": st.column_config.NumberColumn(
                "LSTM / baseline (held-out test)", format="%.2f"
            ),
            "validation ratio": st.column_config.NumberColumn(
                "LSTM / baseline (validation)", format="%.2f"
            ),
            "DM p (test)": st.column_config.NumberColumn(
                "more than luck? p (held-out test)", format="%.3f"
            ),
            "MSE (standardized)": st.column_config.NumberColumn(format="%.4f"),
            "direction right (%)": st.column_config.NumberColumn(format="%.1f"),
            "seconds": st.column_config.NumberColumn(format="%.1f"),
            "epochs": st.column_config.TextColumn(
                help="Epochs trained; a run stopped early says how many of those asked for."
            ),
        },
    )
    rows = list(selection.selection.rows) if selection is not None else []
    if not rows:
        rows = list(range(min(2, len(table))))
        st.caption("Showing the two newest runs; tick rows in the table to choose others.")
    chosen_ids = [int(table.iloc[row]["id"]) for row in rows]
    try:
        chosen = [store.load(run_id) for run_id in chosen_ids]
    except StoreError as error:
        st.error(str(error))
        return
    overlay_section(chosen)
    st.plotly_chart(
        charts.loss_curves_chart({f"#{run.run_id}": run.loss_history for run in chosen}),
        key="compare_losses",
    )
    if len(table) >= 2:
        st.plotly_chart(charts.parallel_coordinates_chart(table), key="parcoords")
    delete_section(store, table)


def run_name(row: pd.Series) -> str:
    """How a saved run is named where it can be deleted: '#12 MSFT lag 60, batch 200, seed 42'.

    A stopped run adds ', 10 of 50 epochs (stopped)'.
    """
    name = (
        f"#{int(row['id'])} {row['ticker']} lag {row['lag']}, batch {row['batch']}, "
        f"seed {row['seed']}"
    )
    if row["stopped"]:
        name += f", {int(row['epochs done'])} of {int(row['epochs'])} epochs (stopped)"
    return name


def delete_section(store: Any, table: pd.DataFrame) -> None:
    """Deleting runs: only the runs a person picked by name, and only after a confirmation.

    The table's ticks choose what the charts compare; they never choose what is deleted, so an
    untouched page (which charts the two newest runs) deletes nothing.
    """
    names = {run_name(row): int(row["id"]) for _, row in table.iterrows()}
    with st.expander("Delete runs"):
        picked = st.multiselect(
            "Runs to delete",
            list(names),
            key="runs_to_delete",
            placeholder="Pick the runs to delete",
        )
        if st.button(
            f"Delete {len(picked)} run(s)" if picked else "Delete",
            key="delete_runs",
            disabled=not picked,
        ):
            if picked:
                st.session_state["pending_delete"] = [names[name] for name in picked]
        existing = set(names.values())
        pending = [
            run_id for run_id in st.session_state.get("pending_delete", []) if run_id in existing
        ]
        if not pending:
            return
        labels = [name for name, run_id in names.items() if run_id in pending]
        listed = "; ".join(labels)
        st.warning(f"Delete {len(pending)} run(s) for good? {listed}. This cannot be undone.")
        confirm, cancel = st.columns(2)
        if confirm.button("Yes, delete them", key="confirm_delete", type="primary"):
            try:
                deleted = store.delete(pending, owner=common.owner())
            except StoreError as error:
                st.error(str(error))
                return
            st.session_state.pop("pending_delete", None)
            st.session_state.pop("runs_to_delete", None)
            st.session_state["compare_message"] = f"Deleted {deleted} run(s): " + "; ".join(labels)
            st.rerun()
        if cancel.button("Cancel", key="cancel_delete"):
            st.session_state.pop("pending_delete", None)
            st.rerun()


st.title("Compare runs")
st.write(
    "Every finished or stopped run is saved. Compare their predictions on the same test days, "
    "their loss curves and their settings, and repeat a setting over seeds to tell a real "
    "improvement from luck. Train a model first if the list is empty."
)
common.collect_finished_job()
message = st.session_state.pop("compare_message", None)
if message:
    st.success(message)
active_job = common.job()
if active_job is not None and active_job.state == "failed":
    st.error(f"The last training could not finish: {active_job.error}")
runs_section()
seed_section()
sweep_section()
