"""Chart details a person reads: whole-epoch ticks and readable loss scales."""

import pandas as pd

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
        "LSTM / baseline RMSE"
    )
    assert figure.layout.margin.t >= 100 and figure.layout.title.yanchor == "top"
