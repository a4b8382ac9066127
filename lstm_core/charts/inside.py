"""Charts of the Inside page: an LSTM's gates, its input window, each day's saliency."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lstm_core.charts.style import COLORS

GATE_ROWS = (
    ("forget", "forget gate F"),
    ("input_gate", "input gate I"),
    ("output_gate", "output gate O"),
    ("cell", "cell state C"),
    ("hidden", "hidden state H"),
)


def gate_heatmaps(layer_trace: object, day_labels: Sequence[str]) -> go.Figure:
    """One layer's gates and states over the window: units in rows, days in columns.

    Each panel has its own colour bar beside it: gates on 0..1, and each state on a scale
    symmetric around 0 that fits its own values (a hidden state within +-0.26 drawn on the
    cell state's +-4 would look blank).
    """
    figure = make_subplots(
        rows=len(GATE_ROWS),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.03,
        subplot_titles=[title for _, title in GATE_ROWS],
    )
    for row, (attribute, title) in enumerate(GATE_ROWS, start=1):
        values = np.asarray(getattr(layer_trace, attribute)).T
        is_gate = attribute in {"forget", "input_gate", "output_gate"}
        reach = float(np.max(np.abs(values))) if values.size else 1.0
        reach = reach if reach > 0 else 1.0
        axis_name = "yaxis" if row == 1 else f"yaxis{row}"
        bottom, top = figure.layout[axis_name].domain
        figure.add_trace(
            go.Heatmap(
                z=values,
                x=list(day_labels),
                y=[f"unit {unit + 1}" for unit in range(values.shape[0])],
                colorscale="Viridis" if is_gate else "RdBu",
                zmin=0 if is_gate else -reach,
                zmax=1 if is_gate else reach,
                showscale=True,
                colorbar={"len": top - bottom, "y": (bottom + top) / 2, "thickness": 14},
                hovertemplate=f"{title}<br>%{{x}}, %{{y}}<br>%{{z:.3f}}<extra></extra>",
            ),
            row=row,
            col=1,
        )
        figure.update_yaxes(showticklabels=True, tickfont={"size": 9}, row=row, col=1)
    figure.update_layout(
        height=170 * len(GATE_ROWS),
        margin={"t": 30, "b": 10},
        title={"text": f"Layer {getattr(layer_trace, 'name', '')}", "x": 0},
    )
    return figure


def window_chart(
    day_labels: Sequence[str],
    window_prices: np.ndarray,
    target_label: str,
    actual: float,
    predicted: float,
) -> go.Figure:
    """The input prices of one window, and the real and predicted price of the day after."""
    figure = go.Figure(
        go.Scatter(x=list(day_labels), y=window_prices, mode="lines+markers", name="input prices")
    )
    figure.add_trace(
        go.Scatter(
            x=[target_label], y=[actual], mode="markers", name="real price",
            marker={"size": 12, "color": COLORS["actual"]},
        )
    )  # fmt: skip
    figure.add_trace(
        go.Scatter(
            x=[target_label], y=[predicted], mode="markers", name="LSTM prediction",
            marker={"size": 12, "color": COLORS["lstm"], "symbol": "x"},
        )
    )  # fmt: skip
    figure.update_yaxes(tickprefix="$")
    figure.update_layout(
        height=280, margin={"t": 30, "b": 10}, title={"text": "The window", "x": 0}
    )
    return figure


def saliency_chart(saliencies: dict[str, np.ndarray]) -> go.Figure:
    """|d prediction / d input| for each past day, one bar series per model, normalized to 1."""
    figure = go.Figure()
    for label, values in saliencies.items():
        magnitude = np.abs(np.asarray(values, dtype=np.float64))
        total = magnitude.max() if magnitude.max() > 0 else 1.0
        days_back = [f"-{len(magnitude) - index}" for index in range(len(magnitude))]
        figure.add_trace(
            go.Bar(
                x=days_back,
                y=magnitude / total,
                name=label,
                hovertemplate="%{x} days<br>%{y:.3f} of the largest<extra>" + label + "</extra>",
            )
        )
    figure.update_layout(
        height=320,
        barmode="group",
        xaxis_title="days before the predicted day",
        yaxis_title="influence (share of largest)",
        # The page's heading already asks "Which past days mattered"; no second title here.
        margin={"t": 20, "b": 10},
    )
    return figure
