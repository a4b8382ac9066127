"""The Compare runs page's saved runs: the table, overlays of the chosen runs, and deleting runs.

Not a page: pages/compare.py calls `runs_section`.
"""

from typing import Any

import pandas as pd
import streamlit as st

from lstm_core import charts
from lstm_core.errors import StoreError
from pages.sections import compare_link
from pages.shared import saving
from pages.shared.formatting import plain


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


NO_TEST_HELP = (
    "On the held-out test period. A dash: a tuning trial, scored on the validation period "
    "only; a study never predicts a trial's test period (only its best trial's, once, at the "
    "end, shown on the Tune page)."
)


def overlay_section(chosen: list[Any]) -> None:
    """The chosen runs' predictions over the real prices: one chart per company.

    Runs of different companies on one chart would draw one company's predictions over
    another's prices.
    """
    by_ticker: dict[str, list[Any]] = {}
    untested = [run for run in chosen if len(run.test_dates) == 0]
    if untested:
        st.caption(
            f"{', '.join(f'#{run.run_id}' for run in untested)}: tuning trials, never "
            "predicted on the test period, so they are not on the chart."
        )
    for run in chosen:
        if len(run.test_dates) == 0:
            continue
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
        store = saving.run_store()
        if store.notice:
            st.warning(plain(store.notice))
        table = store.table(owner=saving.owner())
    except StoreError as error:
        st.error(plain(error))
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
        placeholder="—",
        column_config={
            "LSTM RMSE ($)": st.column_config.NumberColumn(format="%.2f", help=NO_TEST_HELP),
            "baseline RMSE ($)": st.column_config.NumberColumn(format="%.2f", help=NO_TEST_HELP),
            "LSTM / baseline": st.column_config.NumberColumn(
                "LSTM / baseline (held-out test)", format="%.2f", help=NO_TEST_HELP
            ),
            "validation ratio": st.column_config.NumberColumn(
                "LSTM / baseline (validation)", format="%.2f"
            ),
            "DM p (test)": st.column_config.NumberColumn(
                "more than luck? p (held-out test)", format="%.3f", help=NO_TEST_HELP
            ),
            "MSE (standardized)": st.column_config.NumberColumn(format="%.4f", help=NO_TEST_HELP),
            "direction right (%)": st.column_config.NumberColumn(format="%.1f", help=NO_TEST_HELP),
            "seconds": st.column_config.NumberColumn(format="%.1f"),
            "epochs": st.column_config.TextColumn(
                help="Epochs trained; a run stopped early says how many of those asked for."
            ),
        },
    )
    rows = list(selection.selection.rows) if selection is not None else []
    if rows:
        chosen_ids = [int(table.iloc[row]["id"]) for row in rows]
    else:
        chosen_ids, note = compare_link.default_choice([int(run_id) for run_id in table["id"]])
        st.caption(note)
    compare_link.keep_address(chosen_ids)
    try:
        chosen = [store.load(run_id) for run_id in chosen_ids]
    except StoreError as error:
        st.error(plain(error))
        return
    overlay_section(chosen)
    st.plotly_chart(
        charts.loss_curves_chart(
            {f"#{run.run_id}": run.loss_history for run in chosen},
            no_skill_lines={
                f"#{run.run_id}": (run.no_skill or {}).get("training") for run in chosen
            },
        ),
        key="compare_losses",
    )
    tested = table.dropna(subset=["LSTM / baseline"])
    if len(tested) >= 2:
        st.plotly_chart(charts.parallel_coordinates_chart(tested), key="parcoords")
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
        st.warning(
            f"Delete {len(pending)} run(s) for good? {plain(listed)}. This cannot be undone."
        )
        confirm, cancel = st.columns(2)
        if confirm.button("Yes, delete them", key="confirm_delete", type="primary"):
            try:
                deleted = store.delete(pending, owner=saving.owner())
            except StoreError as error:
                st.error(plain(error))
                return
            st.session_state.pop("pending_delete", None)
            st.session_state.pop("runs_to_delete", None)
            st.session_state["compare_message"] = f"Deleted {deleted} run(s): " + "; ".join(labels)
            st.rerun()
        if cancel.button("Cancel", key="cancel_delete"):
            st.session_state.pop("pending_delete", None)
            st.rerun()
