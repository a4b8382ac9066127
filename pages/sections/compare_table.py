"""The Compare page's table of saved runs: its columns in order, each naming its period, the
decimals, a dash for anything missing, and how a run is named on every chart.

Not a page: pages/sections/compare_runs.py shows it.
"""

from typing import Any

import pandas as pd
import streamlit as st

from lstm_core.evaluation.significance import format_pvalue, luck_answer

TEST = "held-out test"
"""How the table's headers name the test period."""

SHOWN_COLUMNS = {
    "run": st.column_config.TextColumn("run", help="Its number, company and settings."),
    "LSTM / baseline": st.column_config.NumberColumn(
        f"LSTM / baseline ({TEST})",
        help="The LSTM's RMSE divided by repeating yesterday's price's; below 1 beats it. "
        "A dash: a tuning trial, scored on the validation period only (a study predicts only "
        "its best trial's test period, once, on the Tune page).",
    ),
    "validation ratio": st.column_config.NumberColumn(
        "LSTM / baseline (validation)",
        help="The same on the validation period, the one to choose settings on. A dash: the "
        "run has no validation period.",
    ),
    "more than luck": st.column_config.TextColumn(
        f"more than luck? ({TEST})",
        help="The Diebold-Mariano test against the baseline: 'yes, better', 'yes, worse' or "
        "'no' (p below 0.05 counts).",
    ),
    "LSTM RMSE ($)": st.column_config.NumberColumn(f"LSTM RMSE ($, {TEST})"),
    "baseline RMSE ($)": st.column_config.NumberColumn(f"baseline RMSE ($, {TEST})"),
    "direction right (%)": st.column_config.NumberColumn(f"direction right (%, {TEST})"),
    "MSE (standardized)": st.column_config.NumberColumn(f"MSE (standardized, {TEST})"),
    "epochs": st.column_config.TextColumn(
        help="Epochs trained; a run stopped early says how many of those asked for."
    ),
    "inputs": st.column_config.TextColumn(
        help="What the network saw each day: the close, and any extra input (volume, range, "
        "market); '(volume shuffled)' marks a shuffled control."
    ),
    "seconds": st.column_config.NumberColumn("seconds"),
    "when": None,
    "ticker": None,
    "lag": None,
    "batch": None,
    "units": None,
    "learning rate": None,
    "seed": None,
    "target": None,
    "train share": None,
    "validation share": None,
    "group": None,
}
"""The table's columns in the order shown (the ratio first after the run's name), with
headers that name each metric's period."""

NUMBER_FORMATS = {
    "LSTM / baseline": "{:.2f}",
    "validation ratio": "{:.2f}",
    "LSTM RMSE ($)": "{:,.2f}",
    "baseline RMSE ($)": "{:,.2f}",
    "direction right (%)": "{:.1f}",
    "MSE (standardized)": "{:.4f}",
    "seconds": "{:,.1f}",
    "train share": "{:.2f}",
    "validation share": "{:.2f}",
    "learning rate": "{:g}",
}
MISSING = "\N{EN DASH}"
"""What a missing figure reads as: a dash, never 'None' or 'nan'."""


def epochs_text(epochs: int, done: int, stopped: bool) -> str:
    """'50', or 'stopped at 10 of 50' for a run stopped early."""
    return f"stopped at {done} of {epochs}" if stopped else str(epochs)


def luck_text(ratio: float, pvalue: float) -> str:
    """'no (p = 0.41)', 'yes, worse (p < 0.001)'; a dash when the test was not run."""
    if pd.isna(pvalue):
        return MISSING
    return f"{luck_answer(ratio, pvalue)} ({format_pvalue(pvalue)})"


def runs_display(table: pd.DataFrame) -> pd.DataFrame:
    """The saved-runs table as shown: each run named, a stopped run's epochs saying so, and
    the test's verdict beside its ratio."""
    shown = table.drop(columns=["stopped", "epochs done"])
    shown.insert(0, "run", [short_name(row) for _, row in table.iterrows()])
    shown["epochs"] = [
        epochs_text(int(epochs), int(done), bool(stopped))
        for epochs, done, stopped in zip(
            table["epochs"], table["epochs done"], table["stopped"], strict=True
        )
    ]
    shown["more than luck"] = [
        luck_text(ratio, pvalue)
        for ratio, pvalue in zip(table["LSTM / baseline"], table["DM p (test)"], strict=True)
    ]
    return shown


def styled(shown: pd.DataFrame) -> Any:
    """The table with its decimals and a dash for every missing figure (numbers still sort)."""
    formats = {name: form for name, form in NUMBER_FORMATS.items() if name in shown.columns}
    return shown.style.format(formats, na_rep=MISSING)


def chart_label(run: Any) -> str:
    """How a chosen run is named on every chart and in the sentence: '#2 batch 64, seed 42'."""
    label = f"#{run.run_id} batch {run.config.batch_size}, seed {run.config.seed}"
    if run.stopped:
        label += f", stopped at {run.epochs_completed} of {run.config.epochs} epochs"
    return label


def short_name(row: pd.Series) -> str:
    """'#12 MSFT lag 60, batch 200, seed 42'."""
    return (
        f"#{int(row['id'])} {row['ticker']} lag {row['lag']}, batch {row['batch']}, "
        f"seed {row['seed']}"
    )
