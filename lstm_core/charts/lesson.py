"""Charts of the Lesson page: one window of past days, the gates, the training range, the seeds."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lstm_core.charts.style import COLORS

GATE_PANELS = (
    ("forget", "forget: how much of the memory to keep"),
    ("input_gate", "write: how much of today to store"),
    ("output_gate", "say: how much of the memory to pass on"),
)
SHOWN_UNITS = 16
"""Memory cells drawn per gate: enough to see a pattern, few enough to read on a projector."""


def window_chart(series: pd.Series, lag: int, context_days: int = 60) -> go.Figure:
    """The last `lag` days before the series' final day highlighted, and that day as the guess."""
    if not 2 <= lag < len(series):
        raise ValueError(f"lag must be at least 2 and below the {len(series)} prices, got {lag}")
    shown = series.iloc[-(lag + 1 + context_days) :]
    window = series.iloc[-(lag + 1) : -1]
    target = series.iloc[-1:]
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=shown.index, y=shown.to_numpy(), name="earlier prices", mode="lines",
            line={"color": COLORS["train"], "width": 1.4},
        )
    )  # fmt: skip
    figure.add_trace(
        go.Scatter(
            x=window.index, y=window.to_numpy(), name=f"the {lag} days it reads",
            mode="lines", line={"color": COLORS["persistence"], "width": 3},
        )
    )  # fmt: skip
    figure.add_trace(
        go.Scatter(
            x=target.index, y=target.to_numpy(), name="the day it must guess",
            mode="markers", marker={"size": 14, "color": COLORS["lstm"], "symbol": "star"},
        )
    )  # fmt: skip
    figure.add_vrect(
        x0=window.index[0], x1=window.index[-1], fillcolor=COLORS["persistence"], opacity=0.08,
        line_width=0,
    )  # fmt: skip
    figure.update_yaxes(tickprefix="$")
    figure.update_layout(
        height=420,
        title={"text": f"{series.name}: {lag} days in, one day out", "x": 0},
        legend={"orientation": "h", "y": -0.15},
        margin={"t": 40, "b": 10},
    )
    return figure


def gates_chart(
    day_labels: Sequence[str], prices: Sequence[float], gates: dict[str, np.ndarray]
) -> go.Figure:
    """The window's prices on top, then the forget, write and say gates of the first cells."""
    figure = make_subplots(
        rows=1 + len(GATE_PANELS),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        row_heights=[0.28] + [0.24] * len(GATE_PANELS),
        subplot_titles=["the window's prices", *[title for _, title in GATE_PANELS]],
    )
    labels = list(day_labels)
    figure.add_trace(
        go.Scatter(
            x=labels, y=list(prices), mode="lines", name="price",
            line={"color": COLORS["actual"], "width": 2}, showlegend=False,
        ),
        row=1, col=1,
    )  # fmt: skip
    for row, (key, title) in enumerate(GATE_PANELS, start=2):
        values = np.asarray(gates[key])[:, :SHOWN_UNITS].T
        figure.add_trace(
            go.Heatmap(
                z=values, x=labels, y=[f"cell {unit + 1}" for unit in range(values.shape[0])],
                colorscale="Viridis", zmin=0, zmax=1, showscale=row == 2,
                colorbar={"title": {"text": "open"}, "len": 0.7, "y": 0.35},
                hovertemplate=f"{title}<br>%{{x}}, %{{y}}<br>%{{z:.2f}}<extra></extra>",
            ),
            row=row, col=1,
        )  # fmt: skip
        figure.update_yaxes(showticklabels=False, row=row, col=1)
    figure.update_yaxes(tickprefix="$", row=1, col=1)
    figure.update_layout(height=620, margin={"t": 30, "b": 10})
    return figure


def overlay_chart(
    train_dates: pd.DatetimeIndex,
    train_prices: np.ndarray,
    test_dates: pd.DatetimeIndex,
    actual: np.ndarray,
    predictions: dict[str, np.ndarray],
    persistence: np.ndarray,
    training_range: tuple[float, float] | None = None,
) -> go.Figure:
    """Training prices faint, the test period's real price, the predictions and the baseline.

    `training_range` (lowest, highest training price) is shaded across the test period: a
    model that learned prices in that band rarely predicts outside it.
    """
    figure = go.Figure()
    if training_range is not None:
        lowest, highest = training_range
        figure.add_hrect(
            y0=lowest, y1=highest, fillcolor=COLORS["train"], opacity=0.18, line_width=0,
            annotation_text="range of the training prices", annotation_position="top left",
        )  # fmt: skip
    figure.add_trace(
        go.Scatter(
            x=train_dates, y=train_prices, name="training prices", mode="lines",
            line={"color": COLORS["train"], "width": 1},
        )
    )  # fmt: skip
    figure.add_trace(
        go.Scatter(
            x=test_dates, y=actual, name="real price", mode="lines",
            line={"color": COLORS["actual"], "width": 1.6},
        )
    )  # fmt: skip
    palette = [COLORS["lstm"], "#2ca02c", "#9467bd"]
    for index, (label, values) in enumerate(predictions.items()):
        figure.add_trace(
            go.Scatter(
                x=test_dates, y=values, name=label, mode="lines",
                line={"color": palette[index % len(palette)], "width": 1.8},
            )
        )  # fmt: skip
    figure.add_trace(
        go.Scatter(
            x=test_dates, y=persistence, name="tomorrow = today", mode="lines",
            line={"color": COLORS["persistence"], "width": 2.2, "dash": "dot"},
        )
    )  # fmt: skip
    figure.update_yaxes(tickprefix="$")
    figure.update_layout(
        height=440,
        hovermode="x unified",
        legend={"orientation": "h", "y": -0.15},
        margin={"t": 30, "b": 10},
    )
    return figure


def error_bars_chart(errors: dict[str, float], baseline: float) -> go.Figure:
    """Each model's typical test error (RMSE, dollars) as a bar beside the baseline's."""
    names = [*errors, "tomorrow = today"]
    heights = [*errors.values(), baseline]
    colours = [COLORS["lstm"]] * len(errors) + [COLORS["persistence"]]
    figure = go.Figure(
        go.Bar(
            x=names, y=heights, marker={"color": colours},
            text=[f"${value:,.2f}" for value in heights], textposition="outside",
        )
    )  # fmt: skip
    figure.update_yaxes(tickprefix="$", title="typical error on the test days (RMSE)")
    figure.update_layout(height=400, margin={"t": 30, "b": 10}, showlegend=False)
    return figure


def seeds_chart(ratios: dict[str, float]) -> go.Figure:
    """Each seed's RMSE ratio to the baseline as a dot, with the baseline's 1.0 as a line."""
    values = list(ratios.values())
    figure = go.Figure(
        go.Scatter(
            x=list(ratios), y=values, mode="markers+text",
            marker={"size": 16, "color": COLORS["lstm"]},
            text=[f"{value:.3f}" for value in values], textposition="top center",
            name="LSTM's error / baseline's",
        )
    )  # fmt: skip
    figure.add_hline(
        y=1.0, line={"color": COLORS["persistence"], "dash": "dot", "width": 2},
        annotation_text="tomorrow = today (1.0)", annotation_position="bottom right",
    )  # fmt: skip
    reach = max(abs(value - 1) for value in values) if values else 0.05
    reach = max(reach * 1.6, 0.02)
    figure.update_yaxes(range=[1 - reach, 1 + reach], title="error ratio (below 1 beats it)")
    figure.update_layout(height=400, margin={"t": 30, "b": 10}, showlegend=False)
    return figure
