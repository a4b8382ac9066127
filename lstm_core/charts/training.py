"""Charts of the Train page: loss per epoch, and predictions beside persistence's."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from lstm_core.charts.style import COLORS, RUN_PALETTE, run_colors


def epoch_tick_step(epochs: int) -> int:
    """Whole-epoch ticks, about ten of them at most."""
    return max(1, math.ceil(epochs / 10))


def loss_chart(
    losses: Sequence[float],
    epochs: int | None = None,
    validation_losses: Sequence[float] = (),
    best_epoch: int | None = None,
    no_skill: dict[str, float | None] | None = None,
) -> go.Figure:
    """Training (and validation) loss per epoch, the x axis fixed to all epochs so the curve
    visibly grows; a marker on the epoch whose weights early stopping kept; with `no_skill`,
    flat lines at the loss that predicting no change scores on each period."""
    figure = go.Figure(
        go.Scatter(
            x=list(range(1, len(losses) + 1)),
            y=list(losses),
            mode="lines+markers",
            name="training loss",
            hovertemplate="epoch %{x}<br>training loss %{y:.5f}<extra></extra>",
        )
    )
    if len(validation_losses):
        figure.add_trace(
            go.Scatter(
                x=list(range(1, len(validation_losses) + 1)),
                y=list(validation_losses),
                mode="lines+markers",
                name="validation loss",
                line={"dash": "dash"},
                hovertemplate="epoch %{x}<br>validation loss %{y:.5f}<extra></extra>",
            )
        )
    if best_epoch is not None and 1 <= best_epoch <= len(validation_losses):
        figure.add_trace(
            go.Scatter(
                x=[best_epoch],
                y=[validation_losses[best_epoch - 1]],
                mode="markers",
                marker={"size": 14, "symbol": "star"},
                name=f"kept: epoch {best_epoch}",
                hovertemplate="weights kept from epoch %{x}<extra></extra>",
            )
        )
    if no_skill:
        add_no_skill_lines(figure, no_skill, epochs or max(len(losses), 1))
    if epochs:
        figure.update_xaxes(range=[0.5, epochs + 0.5])
    figure.update_xaxes(tick0=1, dtick=epoch_tick_step(epochs or len(losses)))
    # A loss is never negative; with one point plotly would otherwise centre the axis on it.
    figure.update_yaxes(rangemode="tozero")
    figure.update_layout(
        height=260,
        xaxis_title="epoch",
        yaxis_title="MSE (model's scale)",
        margin={"t": 30, "b": 10},
        title={
            "text": "Training and validation loss" if len(validation_losses) else "Training loss",
            "x": 0,
        },
        legend={"orientation": "h", "y": -0.3},
    )
    return figure


def add_no_skill_lines(figure: go.Figure, no_skill: dict[str, float | None], epochs: int) -> None:
    """Dotted lines at the no-skill loss of training (and validation), labelled in the legend."""
    styles = {"training": COLORS["train"], "validation": "#ff7f0e"}
    for period, color in styles.items():
        line = no_skill.get(period)
        if line is None:
            continue
        figure.add_trace(
            go.Scatter(
                x=[0.5, epochs + 0.5],
                y=[line, line],
                mode="lines",
                name=f"no skill ({period})",
                line={"dash": "dot", "color": color, "width": 1.5},
                hovertemplate=f"predicting no change scores {line:.4f} on {period}<extra></extra>",
            )
        )


def moves_chart(actual: np.ndarray, predicted: np.ndarray, last_known: np.ndarray) -> go.Figure:
    """Predicted next-day moves against the real ones (percent of yesterday's price).

    Points on the diagonal would be perfect calls; a flat cloud along 0 is a model that says
    "no change"; a cloud along the diagonal shifted a day is the lag an overlay hides.
    """
    last_known = np.asarray(last_known, dtype=np.float64)
    real = 100 * (np.asarray(actual, dtype=np.float64) / last_known - 1)
    dared = 100 * (np.asarray(predicted, dtype=np.float64) / last_known - 1)
    reach = float(max(np.abs(real).max(), np.abs(dared).max(), 0.1)) * 1.05
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=[-reach, reach],
            y=[-reach, reach],
            mode="lines",
            name="perfect call",
            line={"dash": "dash", "color": COLORS["actual"], "width": 1},
            hoverinfo="skip",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=real,
            y=dared,
            mode="markers",
            name="one test day",
            marker={"size": 5, "opacity": 0.6, "color": "#d62728"},
            hovertemplate="real move %{x:.2f}%<br>predicted move %{y:.2f}%<extra></extra>",
        )
    )
    figure.update_xaxes(title="real move (% of yesterday's price)", range=[-reach, reach])
    figure.update_yaxes(title="predicted move (%)", range=[-reach, reach], zeroline=True)
    figure.update_layout(
        height=340,
        margin={"t": 40, "b": 10},
        title={"text": "What it dared to predict: next-day moves, held-out test period", "x": 0},
        legend={"orientation": "h", "y": -0.25},
    )
    return figure


def prediction_chart(
    train_dates: pd.DatetimeIndex,
    train_prices: np.ndarray,
    test_dates: pd.DatetimeIndex,
    actual: np.ndarray,
    predictions: dict[str, np.ndarray],
    persistence: np.ndarray | None = None,
    title: str = "Test period: real prices against predictions",
    colors: dict[str, str] | None = None,
    validation: pd.Series | None = None,
) -> go.Figure:
    """Real test prices, each model's predictions and the baseline, training prices faint before.

    `colors` gives each prediction's colour by its label (one colour per run on every chart).
    `validation`, the real prices of a validation period (dated), is drawn between training
    and test in a shaded, labelled band, so that stretch is never a blank gap.
    """
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=train_dates,
            y=train_prices,
            name="training prices",
            mode="lines",
            line={"color": COLORS["train"], "width": 1},
            opacity=0.5,
        )
    )
    if validation is not None and len(validation):
        figure.add_trace(
            go.Scatter(
                x=validation.index,
                y=validation.to_numpy(),
                name="validation prices",
                mode="lines",
                line={"color": COLORS["validation"], "width": 1.2},
            )
        )
        figure.add_vrect(
            x0=validation.index[0],
            x1=validation.index[-1],
            fillcolor=COLORS["validation"],
            opacity=0.15,
            line_width=0,
            layer="below",
            annotation_text="validation",
            annotation_position="top left",
        )
    figure.add_trace(
        go.Scatter(
            x=test_dates,
            y=actual,
            name="real price",
            mode="lines",
            line={"color": COLORS["actual"], "width": 1.6},
        )
    )
    colors = colors or run_colors(list(predictions))
    for label, values in predictions.items():
        figure.add_trace(
            go.Scatter(
                x=test_dates,
                y=values,
                name=label,
                mode="lines",
                line={"color": colors.get(label, RUN_PALETTE[0]), "width": 1.6},
            )
        )
    if persistence is not None:
        # Drawn last and wider than the real price, dotted: it lies a day off the real line,
        # and drawn under it, it disappeared.
        figure.add_trace(
            go.Scatter(
                x=test_dates,
                y=persistence,
                name="tomorrow = today (baseline)",
                mode="lines",
                line={"color": COLORS["persistence"], "width": 2.6, "dash": "dot"},
            )
        )
    figure.update_yaxes(tickprefix="$")
    figure.update_layout(
        height=440,
        title={"text": title, "x": 0},
        hovermode="x unified",
        legend={"orientation": "h", "y": -0.15},
        margin={"t": 40, "b": 10},
    )
    return figure
