"""Plotly figures for looking ahead and for the walk-forward backtest."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from lstm_core.charts.style import COLORS
from lstm_core.forecasting.forecast import LookAhead

HISTORY_DAYS = 120
"""Real days shown before the forecast on the fan chart."""
BAND_COLORS = {0.8: "rgba(214, 39, 40, 0.28)", 0.95: "rgba(214, 39, 40, 0.12)"}


def _band_traces(
    dates: pd.DatetimeIndex, lower: np.ndarray, upper: np.ndarray, name: str, fill: str
) -> list[go.Scatter]:
    """An upper edge, then a lower edge filled up to it: a shaded band with one legend entry."""
    return [
        go.Scatter(
            x=dates,
            y=upper,
            mode="lines",
            line={"width": 0},
            legendgroup=name,
            showlegend=False,
            hovertemplate="%{x|%Y-%m-%d}<br>upper $%{y:,.2f}<extra>" + name + "</extra>",
        ),
        go.Scatter(
            x=dates,
            y=lower,
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor=fill,
            name=name,
            legendgroup=name,
            hovertemplate="%{x|%Y-%m-%d}<br>lower $%{y:,.2f}<extra>" + name + "</extra>",
        ),
    ]


def fan_chart(dates: pd.DatetimeIndex, prices: np.ndarray, ahead: LookAhead) -> go.Figure:
    """The last real days, the forecast with its 95% and 80% bands, and persistence's band."""
    figure = go.Figure()
    shown_dates = pd.DatetimeIndex(dates)[-HISTORY_DAYS:]
    shown_prices = np.asarray(prices, dtype=np.float64)[-HISTORY_DAYS:]
    figure.add_trace(
        go.Scatter(
            x=shown_dates,
            y=shown_prices,
            name="real price",
            mode="lines",
            line={"color": COLORS["actual"], "width": 2},
        )
    )
    if ahead.bands is not None:
        for level in sorted(ahead.bands, reverse=True):
            lower, upper = ahead.bands[level]
            figure.add_traces(
                _band_traces(
                    ahead.dates, lower, upper, f"LSTM {level:.0%} band", BAND_COLORS[level]
                )
            )
    for level, (lower, upper) in sorted(ahead.persistence_bands.items()):
        for edge, values in (("lower", lower), ("upper", upper)):
            figure.add_trace(
                go.Scatter(
                    x=ahead.dates,
                    y=values,
                    mode="lines",
                    name=f"random-walk {level:.0%} band",
                    legendgroup=f"walk{level}",
                    showlegend=edge == "lower",
                    # The 95% edges start hidden: four dotted lines at once are hard to read.
                    visible=True if level == min(ahead.persistence_bands) else "legendonly",
                    line={"color": COLORS["persistence"], "width": 1, "dash": "dot"},
                )
            )
    # Both lines start at the last real price, so they visibly leave from today.
    start_date, start_price = shown_dates[-1:], shown_prices[-1:]
    figure.add_trace(
        go.Scatter(
            x=start_date.append(ahead.dates),
            y=np.concatenate([start_price, ahead.persistence]),
            name="tomorrow = today (baseline)",
            mode="lines",
            line={"color": COLORS["persistence"], "width": 1.5, "dash": "dash"},
        )
    )
    figure.add_trace(
        go.Scatter(
            x=start_date.append(ahead.dates),
            y=np.concatenate([start_price, ahead.price]),
            name="LSTM forecast",
            mode="lines+markers",
            marker={"size": 4},
            line={"color": COLORS["lstm"], "width": 2},
        )
    )
    with_bands = ", with measured bands" if ahead.bands is not None else ""
    figure.update_yaxes(tickprefix="$")
    figure.update_layout(
        height=440,
        title={"text": f"The next {ahead.horizon} trading days{with_bands}", "x": 0},
        hovermode="x unified",
        legend={"orientation": "h", "y": -0.15},
        margin={"t": 40, "b": 10},
    )
    return figure


VERDICT_COLORS = {
    "better, more than luck": "#2ca02c",
    "within luck": "#9ca3af",
    "worse, more than luck": COLORS["lstm"],
}
"""Bar colours by the Diebold-Mariano verdict (significance.VERDICTS), not by the ratio alone."""

RATIO_AXIS_REACH = 0.1
"""A ratio axis shows at least 1 - this to 1 + this, so small gaps do not look large."""


def ratio_axis_range(values: Sequence[float]) -> list[float]:
    """A y range that holds every ratio, 1, and at least 0.9-1.1, with 5% to spare."""
    finite = [float(value) for value in values if np.isfinite(value)]
    low = min([*finite, 1.0 - RATIO_AXIS_REACH])
    high = max([*finite, 1.0 + RATIO_AXIS_REACH])
    margin = 0.05 * (high - low)
    return [low - margin, high + margin]


def fold_ratio_chart(
    labels: Sequence[str], ratios: Sequence[float], verdicts: Sequence[str] | None = None
) -> go.Figure:
    """Each fold's one-day RMSE ratio to persistence, with their mean and spread (mean +- sd).

    Bars are coloured by `verdicts` (the Diebold-Mariano verdict of each fold); without them,
    grey: a ratio alone does not say whether a gap is more than luck.
    """
    ratios = np.asarray(ratios, dtype=np.float64)
    verdicts = list(verdicts) if verdicts is not None else ["within luck"] * len(ratios)
    colors = [VERDICT_COLORS.get(verdict, VERDICT_COLORS["within luck"]) for verdict in verdicts]
    figure = go.Figure(
        go.Bar(
            x=list(labels),
            y=ratios,
            marker_color=colors,
            name="fold ratio",
            customdata=verdicts,
            hovertemplate="%{x}<br>%{y:.3f}x persistence's error, %{customdata}<extra></extra>",
        )
    )
    figure.add_hline(
        y=1, line={"color": COLORS["persistence"], "dash": "dash"}, annotation_text="persistence"
    )
    if len(ratios):
        mean = float(ratios.mean())
        if len(ratios) > 1:
            spread = float(ratios.std(ddof=1))
            figure.add_hrect(
                y0=mean - spread,
                y1=mean + spread,
                fillcolor="#9ca3af",
                opacity=0.2,
                line_width=0,
                layer="below",
            )
        figure.add_hline(
            y=mean, line={"color": COLORS["actual"]}, annotation_text=f"mean {mean:.3f}"
        )
    figure.update_yaxes(range=ratio_axis_range(ratios))
    figure.update_layout(
        height=340,
        title={"text": "One-day error of each fold, as a multiple of persistence's", "x": 0},
        yaxis_title="RMSE ratio (below 1 beats it)",
        margin={"t": 40, "b": 10},
        showlegend=False,
    )
    return figure


def horizon_error_chart(by_horizon: dict[str, Sequence[float | None]]) -> go.Figure:
    """RMSE in dollars at each number of days ahead, LSTM against persistence."""
    figure = go.Figure()
    steps = list(range(1, len(by_horizon["lstm"]) + 1))
    for name, label, color, dash in (
        ("lstm", "LSTM", COLORS["lstm"], "solid"),
        ("persistence", "tomorrow = today (baseline)", COLORS["persistence"], "dash"),
    ):
        figure.add_trace(
            go.Scatter(
                x=steps,
                y=[np.nan if value is None else value for value in by_horizon[name]],
                name=label,
                mode="lines+markers",
                line={"color": color, "dash": dash},
                hovertemplate="%{x} days ahead<br>$%{y:,.2f}<extra>" + label + "</extra>",
            )
        )
    figure.update_yaxes(tickprefix="$", rangemode="tozero")
    figure.update_layout(
        height=340,
        title={"text": "Typical error by days ahead, over every fold", "x": 0},
        xaxis_title="days ahead",
        yaxis_title="RMSE ($)",
        legend={"orientation": "h", "y": -0.2},
        margin={"t": 40, "b": 10},
    )
    return figure


def stitched_chart(
    dates: pd.DatetimeIndex,
    actual: np.ndarray,
    lstm: np.ndarray,
    persistence: np.ndarray,
    fold_starts: Sequence[pd.Timestamp],
) -> go.Figure:
    """The folds' one-day forecasts over the real price, a dotted line where each fold starts."""
    figure = go.Figure()
    for values, name, color, width, visible in (
        (actual, "real price", COLORS["actual"], 2, True),
        (lstm, "LSTM, one day ahead", COLORS["lstm"], 1.4, True),
        (persistence, "tomorrow = today (baseline)", COLORS["persistence"], 1.2, "legendonly"),
    ):
        figure.add_trace(
            go.Scatter(
                x=dates,
                y=values,
                name=name,
                mode="lines",
                visible=visible,
                line={"color": color, "width": width},
            )
        )
    for number, start in enumerate(fold_starts, start=1):
        figure.add_vline(
            x=pd.Timestamp(start).timestamp() * 1000,
            line={"color": "#9ca3af", "dash": "dot"},
            annotation_text=f"fold {number}",
        )
    figure.update_yaxes(tickprefix="$")
    figure.update_layout(
        height=420,
        title={"text": "Each fold's one-day forecasts, stitched, over the real price", "x": 0},
        hovermode="x unified",
        legend={"orientation": "h", "y": -0.15},
        margin={"t": 40, "b": 10},
    )
    return figure
