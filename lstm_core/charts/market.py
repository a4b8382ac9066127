"""Charts of the Market page: every ticker's prices side by side, and one in detail."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lstm_core.charts.style import company_color

FACET_GAP_PIXELS = 60
"""Room between two rows of panels, for the lower panel's title."""


FACET_ROW_PIXELS = 300


def vertical_spacing(rows: int) -> float:
    """The gap between rows of panels as a share of the plot's height (Plotly's unit).

    A fixed share fails from 19 tickers on (10 rows x 0.12 leaves no room: Plotly refuses any
    spacing above 1 / (rows - 1)); a fixed number of pixels fits any count.
    """
    if rows <= 1:
        return 0.0
    return FACET_GAP_PIXELS / (FACET_ROW_PIXELS * rows)


MAX_FACETS = 40
"""Most panels the facet chart draws (20 rows of two); a page says when there are more."""


def facet_tickers(frame: pd.DataFrame, order: Sequence[str] = ()) -> list[str]:
    """The frame's tickers in panel order: those in `order` first, then as they appear."""
    present = list(dict.fromkeys(frame["Ticker"]))
    tickers = [ticker for ticker in order if ticker in present]
    return tickers + [ticker for ticker in present if ticker not in tickers]


def facet_chart(
    frame: pd.DataFrame,
    names: dict[str, str],
    shared_y: bool = False,
    price_column: str = "Adj Close",
    order: Sequence[str] = (),
) -> go.Figure:
    """One panel per ticker (two columns, `order` first), dates on x, zoom linked across panels."""
    tickers = facet_tickers(frame, order)
    by_ticker = dict(tuple(frame.groupby("Ticker", sort=False)))
    rows = max(1, -(-len(tickers) // 2))
    columns = 2 if len(tickers) > 1 else 1
    figure = make_subplots(
        rows=rows,
        cols=columns,
        shared_xaxes="all",
        shared_yaxes="all" if shared_y else False,
        subplot_titles=[f"{names.get(ticker, ticker)} ({ticker})" for ticker in tickers],
        vertical_spacing=vertical_spacing(rows),
        horizontal_spacing=0.07,
    )
    for index, ticker in enumerate(tickers):
        rows_of_ticker = by_ticker[ticker]
        prices = rows_of_ticker[price_column].where(
            rows_of_ticker[price_column].notna(), rows_of_ticker["Close"]
        )
        figure.add_trace(
            go.Scatter(
                x=rows_of_ticker["Date"],
                y=prices,
                name=ticker,
                mode="lines",
                line={"width": 1.4, "color": company_color(str(ticker))},
                hovertemplate="%{x|%Y-%m-%d}<br>$%{y:,.2f}<extra>" + ticker + "</extra>",
            ),
            row=index // 2 + 1,
            col=index % 2 + 1,
        )
    figure.update_yaxes(tickprefix="$")
    figure.update_layout(
        height=FACET_ROW_PIXELS * rows + 60,
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
            line={"color": company_color(str(series.name))},
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
