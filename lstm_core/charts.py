"""Plotly figures for the pages: plain functions of data, testable without a browser."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

COLORS = {
    "actual": "#1f2937",
    "lstm": "#d62728",
    "persistence": "#1f77b4",
    "train": "#9ca3af",
}


def facet_chart(
    frame: pd.DataFrame,
    names: dict[str, str],
    shared_y: bool = False,
    price_column: str = "Adj Close",
) -> go.Figure:
    """One panel per ticker (two columns), dates on x, zoom linked across panels."""
    tickers = list(dict.fromkeys(frame["Ticker"]))
    rows = max(1, -(-len(tickers) // 2))
    columns = 2 if len(tickers) > 1 else 1
    figure = make_subplots(
        rows=rows,
        cols=columns,
        shared_xaxes="all",
        shared_yaxes="all" if shared_y else False,
        subplot_titles=[f"{names.get(ticker, ticker)} ({ticker})" for ticker in tickers],
        vertical_spacing=0.12,
        horizontal_spacing=0.07,
    )
    for index, ticker in enumerate(tickers):
        rows_of_ticker = frame[frame["Ticker"] == ticker]
        prices = rows_of_ticker[price_column].where(
            rows_of_ticker[price_column].notna(), rows_of_ticker["Close"]
        )
        figure.add_trace(
            go.Scatter(
                x=rows_of_ticker["Date"],
                y=prices,
                name=ticker,
                mode="lines",
                line={"width": 1.4},
                hovertemplate="%{x|%Y-%m-%d}<br>$%{y:,.2f}<extra>" + ticker + "</extra>",
            ),
            row=index // 2 + 1,
            col=index % 2 + 1,
        )
    figure.update_yaxes(tickprefix="$")
    figure.update_layout(
        height=300 * rows + 60,
        showlegend=False,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        title={"text": "Adjusted close, one panel per company", "x": 0},
    )
    return figure


def detail_chart(series: pd.Series, title: str) -> go.Figure:
    """One ticker's price with a range slider and quick range buttons."""
    figure = go.Figure(
        go.Scatter(
            x=series.index,
            y=series.to_numpy(),
            mode="lines",
            name=str(series.name),
            hovertemplate="%{x|%Y-%m-%d}<br>$%{y:,.2f}<extra></extra>",
        )
    )
    figure.update_xaxes(
        rangeslider_visible=True,
        rangeselector={
            "buttons": [
                {"count": 3, "label": "3m", "step": "month", "stepmode": "backward"},
                {"count": 1, "label": "1y", "step": "year", "stepmode": "backward"},
                {"step": "all", "label": "all"},
            ]
        },
    )
    figure.update_yaxes(tickprefix="$")
    figure.update_layout(height=380, title={"text": title, "x": 0}, margin={"t": 40, "b": 10})
    return figure


def loss_chart(losses: Sequence[float], epochs: int | None = None) -> go.Figure:
    """Training loss per epoch, the x axis fixed to all epochs so the curve visibly grows."""
    figure = go.Figure(
        go.Scatter(
            x=list(range(1, len(losses) + 1)),
            y=list(losses),
            mode="lines+markers",
            name="training loss",
            hovertemplate="epoch %{x}<br>loss %{y:.5f}<extra></extra>",
        )
    )
    if epochs:
        figure.update_xaxes(range=[0.5, epochs + 0.5])
    figure.update_layout(
        height=260,
        xaxis_title="epoch",
        yaxis_title="MSE (standardized)",
        margin={"t": 30, "b": 10},
        title={"text": "Training loss", "x": 0},
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
) -> go.Figure:
    """Real test prices, each model's predictions and the baseline, training prices faint before."""
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
    figure.add_trace(
        go.Scatter(
            x=test_dates,
            y=actual,
            name="real price",
            mode="lines",
            line={"color": COLORS["actual"], "width": 2},
        )
    )
    palette = ["#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2"]
    for index, (label, values) in enumerate(predictions.items()):
        figure.add_trace(
            go.Scatter(
                x=test_dates,
                y=values,
                name=label,
                mode="lines",
                line={"color": palette[index % len(palette)], "width": 1.6},
            )
        )
    if persistence is not None:
        figure.add_trace(
            go.Scatter(
                x=test_dates,
                y=persistence,
                name="tomorrow = today (baseline)",
                mode="lines",
                line={"color": COLORS["persistence"], "width": 1.2, "dash": "dot"},
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
