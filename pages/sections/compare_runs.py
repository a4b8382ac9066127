"""The Compare runs page's saved runs: the table, overlays of the chosen runs, and deleting runs.

Not a page: pages/compare.py calls `runs_section`.
"""

from typing import Any

import pandas as pd
import streamlit as st

from lstm_core import charts
from lstm_core.charts.style import run_colors
from lstm_core.errors import StoreError
from lstm_core.experiments.head_to_head import head_to_head
from pages.sections import compare_link
from pages.sections.compare_table import (
    MISSING,
    SHOWN_COLUMNS,
    chart_label,
    runs_display,
    short_name,
    styled,
)
from pages.shared import saving
from pages.shared.formatting import plain

__all__ = ["MISSING", "chart_label", "runs_display", "styled"]


def overlay_section(chosen: list[Any], colors: dict[str, str]) -> None:
    """The chosen runs' predictions over the real prices: one chart per company.

    Runs of different companies on one chart would draw one company's predictions over
    another's prices. Each run keeps its colour from `colors` on every chart.
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
            chart_label(run): pd.Series(run.predicted, index=run.test_dates)
            .reindex(first.test_dates)
            .to_numpy()
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
                colors=colors,
            ),
            key=f"compare_overlay_{ticker}",
        )


def settings_chart(table: pd.DataFrame) -> None:
    """Settings against the error ratio of every complete run, on validation when all have one."""
    complete = table[~table["stopped"].astype(bool)]
    if len(complete) < 2:
        return
    period = "validation" if complete["validation ratio"].notna().all() else "test"
    st.plotly_chart(charts.parallel_coordinates_chart(complete, period), key="parcoords")
    left_out = len(table) - len(complete)
    note = (
        "Coloured and ranked by the validation period: every complete run has one."
        if period == "validation"
        else "Coloured by the held-out test period: not every run has a validation period."
    )
    if left_out:
        note += f" {left_out} stopped run(s) are left out."
    st.caption(note)


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
    st.caption(
        "Click column headers to sort; tick rows to compare them. Every figure is on the "
        "held-out test period unless its header says validation."
    )
    selection = st.dataframe(
        styled(runs_display(table)),
        hide_index=True,
        on_select="rerun",
        selection_mode="multi-row",
        key="runs_table",
        column_order=list(SHOWN_COLUMNS),
        column_config={name: config for name, config in SHOWN_COLUMNS.items() if config},
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
    labels = [chart_label(run) for run in chosen]
    colors = run_colors(labels)
    if len(chosen) >= 2:
        st.info(head_to_head(chosen, labels))
    overlay_section(chosen, colors)
    st.plotly_chart(
        charts.loss_curves_chart(
            {label: run.loss_history for label, run in zip(labels, chosen, strict=True)},
            no_skill_lines={
                label: (run.no_skill or {}).get("training")
                for label, run in zip(labels, chosen, strict=True)
            },
            colors=colors,
        ),
        key="compare_losses",
    )
    settings_chart(table)
    delete_section(store, table)


def run_name(row: pd.Series) -> str:
    """How a saved run is named where it can be deleted: '#12 MSFT lag 60, batch 200, seed 42'.

    A stopped run adds ', stopped at 10 of 50 epochs'.
    """
    name = short_name(row)
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
