"""Chart details a person reads: ticks, colour scales and which line lies on top."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from lstm_core import charts


def test_epoch_ticks_are_whole_epochs_and_at_most_about_ten() -> None:
    assert [charts.epoch_tick_step(epochs) for epochs in (1, 5, 10, 11, 100, 1000)] == [
        1,
        1,
        1,
        2,
        10,
        100,
    ]
    figure = charts.loss_chart([0.3, 0.02], epochs=5)
    assert (figure.layout.xaxis.tick0, figure.layout.xaxis.dtick) == (1, 1)
    assert tuple(figure.layout.xaxis.range) == (0.5, 5.5)
    assert figure.layout.yaxis.rangemode == "tozero"


def test_loss_curves_label_each_power_of_ten() -> None:
    figure = charts.loss_curves_chart({"#1": [0.3, 0.02, 0.004], "#2": [0.2] * 25})
    axis = figure.layout.yaxis
    # dtick 1 on a log axis is one tick per power of ten; "~g" prints 0.01, not 1e-2 or "1".
    assert (axis.type, axis.dtick, axis.tickformat) == ("log", 1, "~g")
    assert figure.layout.xaxis.dtick == 3  # 25 epochs: a tick every 3


def test_parallel_coordinates_keeps_its_title_above_the_axis_names() -> None:
    table = pd.DataFrame(
        {
            "lag": [30, 60],
            "batch": [32, 200],
            "epochs": [5, 10],
            "units": ["32/16", "128/64"],
            "learning rate": [0.001, 0.001],
            "train share": [0.8, 0.8],
            "LSTM / baseline": [7.5, 5.3],
        }
    )
    figure = charts.parallel_coordinates_chart(table)
    assert [dimension.label for dimension in figure.data[0].dimensions][-1] == (
        "LSTM / baseline (held-out test)"
    )
    assert figure.layout.margin.t >= 100 and figure.layout.title.yanchor == "top"


def test_sweep_heatmap_has_categorical_axes_and_colour_centred_on_one() -> None:
    frame = pd.DataFrame(
        [[0.5, 2.0], [1.0, 8.0]], index=pd.Index([20, 60], name="lag"), columns=[32, 200]
    )
    figure = charts.ratio_heatmap(frame)
    heatmap = figure.data[0]
    # Only the values tried, each labelled: no continuous axis from -50 to 280.
    assert figure.layout.xaxis.type == "category" and list(heatmap.x) == ["32", "200"]
    assert figure.layout.yaxis.type == "category" and list(heatmap.y) == ["20", "60"]
    # Colour follows log10(ratio) centred on 0 (a ratio of 1), symmetric: 0.5 is as green as
    # 2 is red, and the colour bar names ratios, never a negative one.
    assert heatmap.zmid == 0 and heatmap.zmin == -heatmap.zmax
    assert np.allclose(heatmap.z, np.log10(frame.to_numpy()))
    ticks = dict(zip(heatmap.colorbar.tickvals, heatmap.colorbar.ticktext, strict=True))
    assert ticks[0.0] == "1" and all(float(text) > 0 for text in ticks.values())
    assert [list(row) for row in heatmap.text] == [["0.50", "2.00"], ["1.00", "8.00"]]


def test_parallel_coordinates_print_real_values_and_anchor_colour_at_one() -> None:
    table = pd.DataFrame(
        {
            "lag": [30, 60, 60],
            "batch": [32, 200, 1],
            "epochs": [5, 10, 10],
            "units": ["32/16", "128/64", "128/64"],
            "learning rate": [0.001, 0.01, 0.0001],
            "train share": [0.8, 0.8, 0.75],
            "LSTM / baseline": [10.0792, 0.98, 5.3],
        }
    )
    figure = charts.parallel_coordinates_chart(table)
    dimensions = {dimension.label: dimension for dimension in figure.data[0].dimensions}
    assert not any("log" in label for label in dimensions)
    batch = dimensions["batch"]
    assert list(batch.ticktext) == ["1", "32", "200"]
    assert list(batch.tickvals) == pytest.approx(np.log2([1, 32, 200]))
    rate = dimensions["learning rate"]
    # Higher rates higher up, each labelled with its value, not its log10.
    assert list(rate.ticktext) == ["0.0001", "0.001", "0.01"]
    assert list(rate.tickvals) == sorted(rate.tickvals)
    # Ticks on every axis: plotly then prints no range ends such as "10.0792".
    assert all(dimension.tickvals for dimension in dimensions.values())
    ratio = dimensions["LSTM / baseline (held-out test)"]
    assert ratio.ticktext[0] == "0.98" and ratio.ticktext[-1] == "10.08"
    # Colour is anchored at a ratio of 1 (log10 = 0), whatever runs are shown, and its bar
    # names only positive ratios.
    line = figure.data[0].line
    assert line.cmid == 0 and line.cmin == -line.cmax
    assert list(line.color) == pytest.approx(np.log10(table["LSTM / baseline"]))
    bar = dict(zip(line.colorbar.tickvals, line.colorbar.ticktext, strict=True))
    assert bar[0.0] == "1" and all(float(text) > 0 for text in bar.values())


def test_each_gate_and_state_heatmap_has_its_own_colour_bar_and_unit_labels() -> None:
    steps, units = 6, 3
    generator = np.random.default_rng(0)
    trace = SimpleNamespace(
        name="lstm",
        forget=generator.uniform(0, 1, (steps, units)),
        input_gate=generator.uniform(0, 1, (steps, units)),
        output_gate=generator.uniform(0, 1, (steps, units)),
        cell=generator.uniform(-4, 4, (steps, units)),
        hidden=generator.uniform(-0.26, 0.26, (steps, units)),
    )
    figure = charts.gate_heatmaps(trace, [f"d{day}" for day in range(steps)])
    heatmaps = list(figure.data)
    assert all(heatmap.showscale for heatmap in heatmaps)
    assert len({heatmap.colorbar.y for heatmap in heatmaps}) == 5
    hidden, cell = heatmaps[4], heatmaps[3]
    assert hidden.zmax == pytest.approx(np.abs(trace.hidden).max())
    assert cell.zmax == pytest.approx(np.abs(trace.cell).max())
    assert list(hidden.y) == ["unit 1", "unit 2", "unit 3"]
    assert all(
        figure.layout[f"yaxis{row if row > 1 else ''}"].showticklabels for row in range(1, 6)
    )
    # The page's heading asks "Which past days mattered"; the chart does not ask again.
    saliency = charts.saliency_chart({"LSTM": np.arange(5.0)})
    assert not (saliency.layout.title.text or "")


def test_detail_chart_zoom_fits_the_price_axis_to_the_period() -> None:
    index = pd.bdate_range("2020-01-01", periods=400)
    series = pd.Series(np.linspace(10, 400, 400), index=index, name="SYN")
    figure = charts.detail_chart(series, "SYN", months=3)
    shown = series[series.index >= index[-1] - pd.DateOffset(months=3)]
    low, high = figure.layout.yaxis.range
    assert low <= shown.min() and high >= shown.max()
    # The last three months span about 25 dollars here; the whole history spans 390.
    assert high - low < 1.2 * (shown.max() - shown.min())
    assert len(figure.data[0].y) == len(shown)


def test_the_baseline_line_is_drawn_on_top_of_the_real_price() -> None:
    dates = pd.bdate_range("2020-01-01", periods=3)
    figure = charts.prediction_chart(
        dates[:0], [], dates, np.ones(3), {"LSTM": np.ones(3)}, np.ones(3)
    )
    real = next(trace for trace in figure.data if trace.name == "real price")
    baseline = figure.data[-1]
    assert baseline.name == "tomorrow = today (baseline)" and baseline.line.dash == "dot"
    assert baseline.line.width > real.line.width
