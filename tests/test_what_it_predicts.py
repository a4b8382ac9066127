"""What the model really predicts: the no-skill loss line and the moves it dares (issue 22)."""

import numpy as np
import pandas as pd
import pytest

from lstm_core import charts
from lstm_core.config import TrainConfig
from lstm_core.evaluation.baselines import no_skill_loss, no_skill_losses, no_skill_sentence
from lstm_core.evaluation.metrics import move_figures, move_sentence
from lstm_core.evaluation.significance import comparison
from lstm_core.execution.jobs import TrainingJob
from lstm_core.preprocessing import prepare
from tests.plotly_json import values


def zigzag_series(count: int = 120) -> pd.Series:
    """Prices alternating 100, 110, 100, ...: every daily log change is +c or -c, c = ln 1.1."""
    prices = np.where(np.arange(count) % 2 == 0, 100.0, 110.0)
    return pd.Series(prices, index=pd.bdate_range("2020-01-01", periods=count))


def test_no_skill_loss_by_hand_for_both_targets() -> None:
    # change: predicting 0 scores the mean squared target, (1 + 4 + 9) / 3.
    assert no_skill_loss(np.array([1.0, -2.0, 3.0]), np.zeros(3), "change") == pytest.approx(14 / 3)
    # level: persistence's squared error in scaled units, (0.25 + 0.25 + 1) / 3.
    assert no_skill_loss(
        np.array([1.0, 2.0, 4.0]), np.array([0.5, 2.5, 3.0]), "level"
    ) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="target must be 'level' or 'change'"):
        no_skill_loss(np.ones(2), np.ones(2), "price")


def test_no_skill_lines_of_a_prepared_series_match_hand_values() -> None:
    # Changes of +c and -c in turn: the scale is their standard deviation, about c (the mean
    # is at most c/90 off zero), so "no change" scores 1 on the daily-change scale: the line
    # a loss of about 1 sits on.
    prepared = prepare(
        zigzag_series(), lag=5, train_fraction=0.8, target="change", validation_fraction=0.1
    )
    lines = no_skill_losses(prepared)
    assert lines["training"] == pytest.approx(1.0, abs=1e-3)
    assert lines["validation"] == pytest.approx(1.0, abs=2e-3)
    # level on np.arange: each next price is one above the last, and the scale is the std of
    # the m training prices 0..m-1, sqrt((m^2 - 1) / 12), so persistence misses by 12/(m^2-1).
    series = pd.Series(np.arange(100.0), index=pd.bdate_range("2020-01-01", periods=100))
    level = prepare(series, lag=4, train_fraction=0.8)
    m = level.train_count + level.lag
    assert no_skill_losses(level)["training"] == pytest.approx(12 / (m**2 - 1), rel=1e-5)
    assert no_skill_losses(level)["validation"] is None


def test_the_live_job_draws_the_same_line_before_any_training() -> None:
    config = TrainConfig(
        ticker="SYN",
        lag=5,
        batch_size=8,
        epochs=1,
        units=(8, 8),
        dense_units=4,
        target="change",
        validation_fraction=0.1,
    )
    job = TrainingJob(config, zigzag_series())
    assert job.no_skill_losses()["training"] == pytest.approx(1.0, abs=1e-3)
    figure = charts.loss_chart([], 3, no_skill=job.no_skill_losses())
    lines = {trace["name"]: trace for trace in figure.to_plotly_json()["data"]}
    assert set(lines) == {"training loss", "no skill (training)", "no skill (validation)"}
    assert values(lines["no skill (training)"]["y"]) == pytest.approx([1.0, 1.0], abs=1e-3)
    assert figure.layout.yaxis.rangemode == "tozero"


def test_the_no_skill_sentence_follows_the_figures() -> None:
    lines = {"training": 1.0, "validation": 0.65}
    flat = no_skill_sentence([1.02, 0.998], [0.66, 0.652], lines, best_epoch=2)
    assert "0.998, on its no-skill line (1.000" in flat
    assert "kept epoch 2 is 0.652, on its line (0.650)" in flat
    assert "learned nothing" in flat
    learned = no_skill_sentence([0.9, 0.5], [0.6, 0.4], lines, best_epoch=2)
    assert "0.500, below its no-skill line" in learned
    assert "0.400, below its line" in learned
    assert "learned nothing" not in learned


def test_move_figures_against_hand_values() -> None:
    last = np.full(4, 100.0)
    actual = np.array([101.0, 99.0, 102.0, 100.0])  # real moves 1, -1, 2, 0
    half = move_figures(actual, np.array([100.5, 99.5, 101.0, 100.0]), last)
    assert half == pytest.approx({"move_scale": 0.5, "move_correlation": 1.0})
    opposite = move_figures(actual, np.array([99.75, 100.25, 99.5, 100.0]), last)
    assert opposite == pytest.approx({"move_scale": 0.25, "move_correlation": -1.0})
    still = move_figures(actual, last.copy(), last)
    assert still == {"move_scale": 0.0, "move_correlation": None}
    assert "0.00x the size" in move_sentence(still)
    assert 'says "about no change"' in move_sentence(still)
    assert "correlate -1.00" in move_sentence(opposite)
    figures = comparison(actual, np.array([100.5, 99.5, 101.0, 100.0]), last, last)
    assert figures["move_scale"] == pytest.approx(0.5)


def test_moves_chart_plots_percent_moves_with_the_diagonal() -> None:
    last = np.full(3, 200.0)
    figure = charts.moves_chart(
        np.array([202.0, 198.0, 200.0]), np.array([201.0, 200.0, 199.0]), last
    ).to_plotly_json()
    days = next(trace for trace in figure["data"] if trace["name"] == "one test day")
    assert values(days["x"]) == pytest.approx([1.0, -1.0, 0.0])
    assert values(days["y"]) == pytest.approx([0.5, 0.0, -0.5])
    assert figure["data"][0]["name"] == "perfect call"
