"""Plotly figures for the pages: plain functions of data, testable without a browser."""

from __future__ import annotations

import math
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
    order: Sequence[str] = (),
) -> go.Figure:
    """One panel per ticker (two columns, `order` first), dates on x, zoom linked across panels."""
    present = list(dict.fromkeys(frame["Ticker"]))
    tickers = [ticker for ticker in order if ticker in present]
    tickers += [ticker for ticker in present if ticker not in tickers]
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
        margin={"l": 10, "r": 10, "t": 80, "b": 10},
        title={"text": "Adjusted close, one panel per company", "x": 0, "y": 0.98},
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
    figure.update_layout(height=400, title={"text": title, "x": 0}, margin={"t": 80, "b": 10})
    return figure


def epoch_tick_step(epochs: int) -> int:
    """Whole-epoch ticks, about ten of them at most."""
    return max(1, math.ceil(epochs / 10))


def loss_chart(
    losses: Sequence[float],
    epochs: int | None = None,
    validation_losses: Sequence[float] = (),
    best_epoch: int | None = None,
) -> go.Figure:
    """Training (and validation) loss per epoch, the x axis fixed to all epochs so the curve
    visibly grows; a marker on the epoch whose weights early stopping kept."""
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


def loss_curves_chart(histories: dict[str, Sequence[float]]) -> go.Figure:
    """Several runs' loss per epoch on one chart."""
    figure = go.Figure()
    for label, losses in histories.items():
        figure.add_trace(
            go.Scatter(
                x=list(range(1, len(losses) + 1)), y=list(losses), mode="lines+markers", name=label
            )
        )
    longest = max((len(losses) for losses in histories.values()), default=1)
    figure.update_xaxes(title="epoch", tick0=1, dtick=epoch_tick_step(longest))
    # One labelled tick per power of ten; plotly's default log ticks label only leading digits.
    figure.update_yaxes(
        title="training loss (MSE, standardized)", type="log", dtick=1, tickformat="~g"
    )
    figure.update_layout(
        height=320,
        title={"text": "Training loss of each run", "x": 0},
        margin={"t": 40, "b": 10},
    )
    return figure


def parallel_coordinates_chart(table: pd.DataFrame) -> go.Figure:
    """Hyperparameters against the test RMSE relative to the baseline, one line per run."""
    dimensions = [
        {"label": "lag", "values": table["lag"]},
        {"label": "batch (log2)", "values": np.log2(table["batch"].astype(float))},
        {"label": "epochs", "values": table["epochs"]},
        {"label": "units (layer 1)", "values": [int(str(u).split("/")[0]) for u in table["units"]]},
        {"label": "learning rate (log10)", "values": np.log10(table["learning rate"])},
        {"label": "train share", "values": table["train share"]},
        {"label": "LSTM / baseline RMSE", "values": table["LSTM / baseline"]},
    ]
    figure = go.Figure(
        go.Parcoords(
            line={
                "color": table["LSTM / baseline"],
                "colorscale": "RdYlGn_r",
                "showscale": True,
                "colorbar": {"title": "LSTM / baseline"},
            },
            dimensions=dimensions,
        )
    )
    figure.update_layout(
        height=420,
        # The axis names sit above the plot, so the title goes higher still.
        title={
            "text": "Settings against test error (below 1 beats the baseline)",
            "x": 0,
            "y": 0.98,
            "yanchor": "top",
        },
        margin={"t": 110, "l": 60, "r": 40},
    )
    return figure


def ratio_heatmap(frame: pd.DataFrame) -> go.Figure:
    """Lag x batch size heatmap of LSTM RMSE / baseline RMSE, values written in the cells."""
    figure = go.Figure(
        go.Heatmap(
            z=frame.to_numpy(),
            x=[str(column) for column in frame.columns],
            y=[str(index) for index in frame.index],
            colorscale="RdYlGn_r",
            zmid=1.0,
            text=np.round(frame.to_numpy(), 2),
            texttemplate="%{text}",
            hovertemplate="lag %{y}, batch %{x}<br>LSTM / baseline RMSE %{z:.2f}<extra></extra>",
            colorbar={"title": "LSTM / baseline"},
        )
    )
    figure.update_layout(
        height=360,
        xaxis_title="batch size",
        yaxis_title="lag (days)",
        title={"text": "Test RMSE relative to 'tomorrow = today' (below 1 is better)", "x": 0},
        margin={"t": 40, "b": 10},
    )
    return figure


GATE_ROWS = (
    ("forget", "forget gate F"),
    ("input_gate", "input gate I"),
    ("output_gate", "output gate O"),
    ("cell", "cell state C"),
    ("hidden", "hidden state H"),
)


def gate_heatmaps(layer_trace: object, day_labels: Sequence[str]) -> go.Figure:
    """One layer's gates and states over the window: units in rows, days in columns."""
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
        figure.add_trace(
            go.Heatmap(
                z=values,
                x=list(day_labels),
                y=[f"unit {unit + 1}" for unit in range(values.shape[0])],
                colorscale="Viridis" if is_gate else "RdBu",
                zmin=0 if is_gate else None,
                zmax=1 if is_gate else None,
                zmid=None if is_gate else 0,
                showscale=row in (1, 4),
                colorbar={"len": 0.35, "y": 0.82 if row == 1 else 0.25},
                hovertemplate=f"{title}<br>%{{x}}, %{{y}}<br>%{{z:.3f}}<extra></extra>",
            ),
            row=row,
            col=1,
        )
        figure.update_yaxes(showticklabels=False, row=row, col=1)
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
        title={"text": "Which past days mattered", "x": 0},
        margin={"t": 40, "b": 10},
    )
    return figure
