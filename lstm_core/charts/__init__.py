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


DETAIL_PERIODS = {"3 months": 3, "1 year": 12, "All": None}
"""The detail chart's zoom choices, in months back from the last price (None: everything)."""


def detail_chart(series: pd.Series, title: str, months: int | None = None) -> go.Figure:
    """One ticker's price over its last `months` months (all when None), both axes fitted.

    The zoom is chosen on the page, not with plotly's range buttons: those keep the price
    axis of the whole history, so three months of a six-year chart drew a flat line.
    """
    shown = series
    if months is not None and len(series):
        start = series.index[-1] - pd.DateOffset(months=months)
        shown = series[series.index >= start]
    figure = go.Figure(
        go.Scatter(
            x=shown.index,
            y=shown.to_numpy(),
            mode="lines",
            name=str(series.name),
            hovertemplate="%{x|%Y-%m-%d}<br>$%{y:,.2f}<extra></extra>",
        )
    )
    if len(shown):
        low, high = float(shown.min()), float(shown.max())
        pad = max((high - low) * 0.05, abs(high) * 0.005)
        figure.update_yaxes(range=[low - pad, high + pad])
        figure.update_xaxes(range=[shown.index[0], shown.index[-1]])
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
            line={"color": COLORS["actual"], "width": 1.6},
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


MAX_AXIS_TICKS = 8
"""A parallel-coordinates axis labels at most this many of its values."""

RATIO_TICKS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)
"""Ratios labelled on colour bars of LSTM / baseline RMSE."""


def _labelled_dimension(
    label: str, positions: Sequence[float], shown: Sequence[str]
) -> dict[str, object]:
    """A parallel-coordinates axis whose ticks print the real values, not their positions.

    `positions` place each run on the axis (a log scale for batch sizes and learning rates);
    `shown` is what a person reads there. Ticks set this way also remove plotly's range-end
    labels, which printed positions such as "10.0792".
    """
    pairs = sorted(dict(zip(positions, shown, strict=True)).items())
    if len(pairs) > MAX_AXIS_TICKS:
        picks = np.linspace(0, len(pairs) - 1, MAX_AXIS_TICKS).round().astype(int)
        pairs = [pairs[index] for index in sorted(set(picks))]
    return {
        "label": label,
        "values": list(positions),
        "tickvals": [position for position, _ in pairs],
        "ticktext": [text for _, text in pairs],
    }


def _log_ratio_colour(ratios: Sequence[float]) -> tuple[np.ndarray, float, dict[str, object]]:
    """Colour values for LSTM / baseline ratios: log10 of the ratio, centred on a ratio of 1.

    Returns the values, the symmetric reach of the scale and a colour bar that names ratios,
    so 0.5 is as green as 2 is red and no negative ratio appears on the bar.
    """
    logs = np.log10(np.asarray(ratios, dtype=np.float64))
    finite = logs[np.isfinite(logs)]
    reach = max(float(np.max(np.abs(finite))) if finite.size else 0.0, float(np.log10(2)))
    ticks = [tick for tick in RATIO_TICKS if abs(np.log10(tick)) <= reach + 1e-9]
    colorbar = {
        "title": "LSTM / baseline",
        "tickvals": [float(np.log10(tick)) for tick in ticks],
        "ticktext": [f"{tick:g}" for tick in ticks],
    }
    return logs, reach, colorbar


def parallel_coordinates_chart(table: pd.DataFrame) -> go.Figure:
    """Hyperparameters against the test RMSE relative to the baseline, one line per run.

    Batch sizes and learning rates sit on log scales (32 and 200 would otherwise crowd at one
    end) but their ticks print the real values; colour is anchored at a ratio of 1 (as on
    the sweep's heatmap), so green always means "beat the baseline", whatever runs are shown.
    """
    lags = table["lag"].astype(int).tolist()
    batches = table["batch"].astype(int).tolist()
    epochs = table["epochs"].astype(int).tolist()
    rates = table["learning rate"].astype(float).tolist()
    units = [int(str(unit).split("/")[0]) for unit in table["units"]]
    ratios = table["LSTM / baseline"].astype(float).tolist()
    # Ratios are continuous: five evenly spaced ticks, not one per run, which overlapped.
    ratio_ticks = np.unique(np.round(np.linspace(min(ratios), max(ratios), 5), 2)).tolist()
    ratio_axis = {
        "label": "LSTM / baseline RMSE",
        "values": ratios,
        "range": [min(ratio_ticks[0], min(ratios)), max(ratio_ticks[-1], max(ratios))],
        "tickvals": ratio_ticks,
        "ticktext": [f"{tick:.2f}" for tick in ratio_ticks],
    }
    dimensions = [
        _labelled_dimension("lag", lags, [str(lag) for lag in lags]),
        _labelled_dimension("batch", np.log2(batches).tolist(), [str(size) for size in batches]),
        _labelled_dimension("epochs", epochs, [str(count) for count in epochs]),
        _labelled_dimension("units (layer 1)", units, [str(count) for count in units]),
        _labelled_dimension("learning rate", np.log10(rates).tolist(), [f"{r:g}" for r in rates]),
        _labelled_dimension(
            "train share",
            table["train share"].astype(float).tolist(),
            [f"{share:.2f}" for share in table["train share"]],
        ),
        ratio_axis,
    ]
    colours, reach, colorbar = _log_ratio_colour(ratios)
    figure = go.Figure(
        go.Parcoords(
            line={
                "color": colours,
                "colorscale": "RdYlGn_r",
                "cmid": 0.0,
                "cmin": -reach,
                "cmax": reach,
                "showscale": True,
                "colorbar": colorbar,
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


def ratio_heatmap(frame: pd.DataFrame, period: str = "test") -> go.Figure:
    """Lag x batch size heatmap of LSTM RMSE / baseline RMSE, the ratio written in each cell.

    `period` names the period the ratios come from ("test" or "validation"). The axes are
    categories (only the values tried, each labelled). Colour follows the
    ratio's logarithm centred on 1, so 0.5 and 2 are equally far from the white of "as good as
    the baseline": green below 1, red above, and no negative ratios on the colour bar.
    """
    ratios = frame.to_numpy(dtype=np.float64)
    logs, reach, colorbar = _log_ratio_colour(ratios.ravel())
    figure = go.Figure(
        go.Heatmap(
            z=logs.reshape(ratios.shape),
            x=[str(column) for column in frame.columns],
            y=[str(index) for index in frame.index],
            colorscale="RdYlGn_r",
            zmid=0.0,
            zmin=-reach,
            zmax=reach,
            text=[[f"{value:.2f}" for value in row] for row in ratios],
            texttemplate="%{text}",
            customdata=ratios,
            hovertemplate="lag %{y}, batch %{x}<br>LSTM / baseline RMSE %{customdata:.2f}"
            "<extra></extra>",
            colorbar=colorbar,
        )
    )
    figure.update_xaxes(type="category", title="batch size")
    figure.update_yaxes(type="category", title="lag (days)")
    figure.update_layout(
        height=360,
        title={
            "text": f"{period.capitalize()} RMSE relative to 'tomorrow = today' "
            "(below 1 is better)",
            "x": 0,
        },
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
