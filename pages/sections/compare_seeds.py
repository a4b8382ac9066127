"""The Compare page's seed summary: each setting's complete seeds, their mean and spread,
how many seeds a setting was to have, and the verdicts on them.

Not a page: pages/sections/compare_groups.py shows it after a seed group.
"""

from typing import Any

import pandas as pd
import streamlit as st

from lstm_core.config import TrainConfig
from lstm_core.evaluation.metrics import METRIC_LABELS
from lstm_core.experiments import sweeps as experiments
from pages.shared import formatting

PLAN_KEY = "group_plan"
"""The last group's kind and how many runs each setting was to have, by settings_label."""

# The metrics the seed table shows, named as on the Train page. (A string here would be drawn
# on the page: Streamlit's magic writes a page script's bare strings.)
SPREAD_METRICS = ("rmse", "mae", "mse_scaled", "direction_accuracy")


def settings_label(config: TrainConfig) -> str:
    """How a group of seeds is named: everything but the seed."""
    return f"{config.ticker} lag {config.lag}, batch {config.batch_size}, {config.epochs} epochs"


def group_by_settings(results: list[Any]) -> dict[str, list[Any]]:
    """Runs that differ only in their seed, grouped under one label."""
    groups: dict[str, list[Any]] = {}
    for result in results:
        groups.setdefault(settings_label(result.config), []).append(result)
    return groups


def spread_display(table: pd.DataFrame) -> pd.DataFrame:
    """The seed table as a person reads it: the Train page's metric names and decimals."""
    shown = table[table["metric"].isin(SPREAD_METRICS)].copy()
    for column in ("mean", "std", "min", "max"):
        shown[column] = [
            formatting.format_metric(name, value)
            for name, value in zip(shown["metric"], shown[column], strict=True)
        ]
    shown["metric"] = shown["metric"].map(METRIC_LABELS)
    return shown


def planned_counts(kind: str) -> dict[str, int]:
    """How many runs each setting of the last group of `kind` was to have (empty if unknown)."""
    plan = st.session_state.get(PLAN_KEY) or {}
    return dict(plan.get("planned", {})) if plan.get("kind") == kind else {}


def seed_count_text(label: str, count: int, planned: dict[str, int]) -> str:
    """'**MSFT lag 60, …**, 3 seeds', or '…, only 2 of 3 seeds complete' when some are missing."""
    wanted = planned.get(label, count)
    if count >= wanted:
        return f"**{label}**, {count} seeds"
    return f"**{label}**, only {count} of {wanted} seeds complete"


def show_seed_summary(complete: list[Any], planned: dict[str, int]) -> None:
    """Mean and spread of each setting's complete seeds, and the verdicts on them."""
    st.markdown("#### Seed repeats: mean and spread")
    groups = group_by_settings(complete)
    for label, wanted in planned.items():
        if label not in groups:
            st.markdown(f"**{label}**: no complete seed out of {wanted}, so nothing to average.")
    for label, members in groups.items():
        st.markdown(seed_count_text(label, len(members), planned))
        st.dataframe(
            spread_display(experiments.spread_table(members)),
            hide_index=True,
            column_config={"mean": st.column_config.TextColumn(help=formatting.NO_DIRECTION_HELP)},
        )
    if not groups:
        return
    if len(groups) == 2:
        (first_label, first), (second_label, second) = groups.items()
        st.info(experiments.difference_verdict(first, second, (first_label, second_label)))
    baseline = complete[0].metrics["persistence"]["rmse"]
    st.info(
        f"'Tomorrow = today' has a held-out test RMSE of ${baseline:,.2f}. "
        + experiments.group_verdict(groups)
    )
