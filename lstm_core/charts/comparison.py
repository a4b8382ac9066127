"""Charts of the Compare page: loss curves, parallel coordinates and a ratio heatmap."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from lstm_core.charts.style import RUN_PALETTE, run_colors
from lstm_core.charts.training import epoch_tick_step


def loss_curves_chart(
    histories: dict[str, Sequence[float]],
    no_skill_lines: dict[str, float | None] | None = None,
    colors: dict[str, str] | None = None,
) -> go.Figure:
    """Several runs' training loss per epoch on one chart, each run in its colour from
    `colors`; with `no_skill_lines`, each run's no-skill training loss as a dotted line of its
    colour."""
    figure = go.Figure()
    colors = colors or run_colors(list(histories))
    longest = max((len(losses) for losses in histories.values()), default=1)
    for label, losses in histories.items():
        color = colors.get(label, RUN_PALETTE[0])
        figure.add_trace(
            go.Scatter(
                x=list(range(1, len(losses) + 1)),
                y=list(losses),
                mode="lines+markers",
                name=label,
                legendgroup=label,
                line={"color": color},
            )
        )
        line = (no_skill_lines or {}).get(label)
        if line is not None:
            figure.add_trace(
                go.Scatter(
                    x=[1, max(longest, 2)],
                    y=[line, line],
                    mode="lines",
                    name=f"{label}: no skill",
                    legendgroup=label,
                    line={"color": color, "dash": "dot", "width": 1.5},
                    hovertemplate=f"predicting no change scores {line:.4f}<extra></extra>",
                )
            )
    figure.update_xaxes(title="epoch", tick0=1, dtick=epoch_tick_step(longest))
    # One labelled tick per power of ten; plotly's default log ticks label only leading digits.
    # Log, not from 0: the tutorial's level runs and daily-change runs differ a hundredfold.
    figure.update_yaxes(
        title="training loss (MSE, standardized)", type="log", dtick=1, tickformat="~g"
    )
    figure.update_layout(
        height=320,
        title={
            "text": "Training loss of each run, dotted: what predicting no change scores",
            "x": 0,
        },
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


def parallel_coordinates_chart(table: pd.DataFrame, period: str = "test") -> go.Figure:
    """Hyperparameters against the RMSE relative to the baseline, one line per run.

    `period` names the ratio used: "validation" (the table's validation ratios) or "test".

    Batch sizes and learning rates sit on log scales (32 and 200 would otherwise crowd at one
    end) but their ticks print the real values; colour is anchored at a ratio of 1 (as on
    the sweep's heatmap), so green always means "beat the baseline", whatever runs are shown.
    """
    lags = table["lag"].astype(int).tolist()
    batches = table["batch"].astype(int).tolist()
    epochs = table["epochs"].astype(int).tolist()
    rates = table["learning rate"].astype(float).tolist()
    units = [int(str(unit).split("/")[0]) for unit in table["units"]]
    if period not in {"validation", "test"}:
        raise ValueError(f"period must be 'validation' or 'test', got {period!r}")
    column = "validation ratio" if period == "validation" else "LSTM / baseline"
    ratios = table[column].astype(float).tolist()
    period_name = "validation" if period == "validation" else "held-out test"
    # Ratios are continuous: five evenly spaced ticks, not one per run, which overlapped.
    ratio_ticks = np.unique(np.round(np.linspace(min(ratios), max(ratios), 5), 2)).tolist()
    ratio_axis = {
        "label": f"LSTM / baseline ({period_name})",
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
            "text": f"Settings against {period_name} error (below 1 beats the baseline)",
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
