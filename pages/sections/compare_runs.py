"""The Compare runs page's saved runs: the table, overlays of the chosen runs, and deleting runs.

Not a page: pages/compare.py calls `runs_section`.
"""

from typing import Any

import pandas as pd
import streamlit as st

from lstm_core import charts
from lstm_core.errors import StoreError
from pages.shared import saving


def epochs_text(epochs: int, done: int, stopped: bool) -> str:
    """'50', or 'stopped at 10 of 50' for a run stopped early."""
    return f"stopped at {done} of {epochs}" if stopped else str(epochs)


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
                f", stopped at {run.epochs_completed} of {run.config.epochs} epochs"
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
            st.warning(store.notice)
        table = store.table(owner=saving.owner())
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

    A stopped run adds ', stopped at 10 of 50 epochs'.
    """
    name = (
        f"#{int(row['id'])} {row['ticker']} lag {row['lag']}, batch {row['batch']}, "
        f"seed {row['seed']}"
    )
    if row["stopped"]:
        name += f", stopped at {int(row['epochs done'])} of {int(row['epochs'])} epochs"
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
                deleted = store.delete(pending, owner=saving.owner())
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
