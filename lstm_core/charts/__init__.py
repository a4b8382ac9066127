"""Plotly figures for the pages: plain functions of data, testable without a browser.

One module per page: market, training, comparison, inside and forecast (the Forecast and
Backtest pages); style holds the colours they share.
"""

from lstm_core.charts.comparison import (
    loss_curves_chart,
    parallel_coordinates_chart,
    ratio_heatmap,
)
from lstm_core.charts.inside import gate_heatmaps, saliency_chart, window_chart
from lstm_core.charts.market import (
    DETAIL_PERIODS,
    MAX_FACETS,
    detail_chart,
    facet_chart,
    facet_tickers,
)
from lstm_core.charts.style import COLORS
from lstm_core.charts.training import (
    epoch_tick_step,
    loss_chart,
    moves_chart,
    prediction_chart,
)

__all__ = [
    "COLORS",
    "DETAIL_PERIODS",
    "MAX_FACETS",
    "detail_chart",
    "epoch_tick_step",
    "facet_chart",
    "facet_tickers",
    "gate_heatmaps",
    "loss_chart",
    "loss_curves_chart",
    "moves_chart",
    "parallel_coordinates_chart",
    "prediction_chart",
    "ratio_heatmap",
    "saliency_chart",
    "window_chart",
]
