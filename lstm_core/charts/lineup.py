"""The lineup's chart: each model kind's RMSE ratio to persistence, mean and spread over seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

PERIOD_COLORS = {"validation": "#9467bd", "test": "#d62728"}
PERIOD_NAMES = {"validation": "validation period", "test": "held-out test period"}


def lineup_chart(table: pd.DataFrame) -> go.Figure:
    """Bars of each model's mean ratio to persistence per period, error bars one seed spread.

    `table` is lstm_core.experiments.lineup.lineup_table's. A dashed line at 1 marks
    "tomorrow = today"; below it a model did better than repeating yesterday's price.
    """
    figure = go.Figure()
    for period in ("validation", "test"):
        column = f"{period} ratio"
        if column not in table.columns:
            continue
        spread = table[f"{period} spread"].to_numpy(dtype=np.float64)
        figure.add_trace(
            go.Bar(
                x=table["name"].tolist(),
                y=table[column].tolist(),
                name=PERIOD_NAMES[period],
                marker_color=PERIOD_COLORS[period],
                error_y={
                    "type": "data",
                    "array": np.nan_to_num(spread, nan=0.0).tolist(),
                    "visible": True,
                },
                hovertemplate="%{x}: %{y:.3f}<extra>" + PERIOD_NAMES[period] + "</extra>",
            )
        )
    figure.add_hline(
        y=1.0,
        line_dash="dash",
        line_color="#1f77b4",
        annotation_text="tomorrow = today",
        annotation_position="top left",
    )
    shown = np.concatenate([np.asarray(trace.y, dtype=np.float64) for trace in figure.data])
    low, high = min(float(np.nanmin(shown)), 1.0), max(float(np.nanmax(shown)), 1.0)
    margin = max(0.02, (high - low) * 0.3)
    figure.update_yaxes(title="RMSE / persistence's RMSE", range=[low - margin, high + margin])
    figure.update_layout(
        barmode="group",
        height=340,
        title={"text": "Error ratio to 'tomorrow = today' (mean over seeds, bar = spread)", "x": 0},
        margin={"t": 40, "b": 10},
    )
    return figure
