"""Metrics as the pages print them: dollars to cents, percents to one decimal, a dash if none.

Not a page.
"""

from __future__ import annotations

import pandas as pd

NO_DIRECTION_HELP = (
    "A dash: 'tomorrow = today' never predicts a move up or down, so it has no direction score. "
    "Read direction scores against the share of up days in the test period instead: always "
    "saying 'up' scores exactly that."
)


def format_metric(name: str, value: float | None) -> str:
    """A metric as the result cards print it: dollars to cents, percents to one decimal.

    A missing value (persistence's direction score) is a dash.
    """
    if value is None or pd.isna(value):
        return "\N{EN DASH}"
    if name in {"rmse", "mae"}:
        return f"${value:,.2f}"
    if name == "direction_accuracy":
        return f"{value:.1f}%"
    if name == "mape":
        return f"{value:.2f}%"
    if name == "mase":
        return f"{value:.2f}"
    return f"{value:.4f}"
