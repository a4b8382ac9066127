"""Metrics against hand computations, and the persistence baseline."""

import math

import numpy as np
import pytest

from lstm_core.evaluation.baselines import persistence_forecast
from lstm_core.evaluation.metrics import forecast_metrics, in_sample_naive_mae, range_note


def test_persistence_repeats_the_last_value_of_each_window() -> None:
    windows = np.arange(12).reshape(4, 3)
    assert persistence_forecast(windows).tolist() == [2, 5, 8, 11]
    assert persistence_forecast(windows[:, :, None]).tolist() == [2, 5, 8, 11]


def test_metrics_match_a_hand_computation() -> None:
    actual = np.array([10.0, 12.0, 11.0, 13.0])
    predicted = np.array([11.0, 11.0, 12.0, 13.0])
    last_known = np.array([9.0, 10.0, 12.0, 11.0])
    metrics = forecast_metrics(actual, predicted, last_known, scale_std=2.0, naive_mae=0.5)
    # Errors are 1, -1, 1, 0.
    assert metrics["rmse"] == pytest.approx(math.sqrt(3 / 4))
    assert metrics["mae"] == pytest.approx(3 / 4)
    assert metrics["mse_scaled"] == pytest.approx((3 / 4) / 4)
    assert metrics["mape"] == pytest.approx(100 * (1 / 10 + 1 / 12 + 1 / 11 + 0) / 4)
    assert metrics["mase"] == pytest.approx((3 / 4) / 0.5)
    # Moves predicted: +2, +1, 0, +2; real moves: +1, +2, -1, +2 -> right, right, wrong, right.
    assert metrics["direction_accuracy"] == pytest.approx(75.0)


def test_metrics_of_persistence_equal_numpy_on_a_random_walk() -> None:
    generator = np.random.default_rng(0)
    prices = 100 + np.cumsum(generator.normal(size=200))
    actual, last_known = prices[1:], prices[:-1]
    metrics = forecast_metrics(actual, last_known, last_known, scale_std=3.0, naive_mae=1.0)
    assert metrics["rmse"] == pytest.approx(np.sqrt(np.mean(np.diff(prices) ** 2)))
    assert metrics["mae"] == pytest.approx(np.mean(np.abs(np.diff(prices))))
    # Repeating yesterday never predicts a move: no direction score, rather than a false 0.
    assert metrics["direction_accuracy"] is None


def test_naive_mae_is_the_mean_absolute_daily_change() -> None:
    assert in_sample_naive_mae(np.array([1.0, 3.0, 2.0, 2.0])) == pytest.approx((2 + 1 + 0) / 3)


def test_mismatched_lengths_raise_value_error() -> None:
    with pytest.raises(ValueError, match="same length"):
        forecast_metrics(np.ones(3), np.ones(2), np.ones(3), 1.0, 1.0)


def test_range_note_counts_test_days_beyond_the_training_prices() -> None:
    train = np.array([10.0, 12.0, 11.0, 15.0])
    # 3 of 4 test prices are above 15 (the training maximum): 75%.
    assert range_note(train, np.array([14.0, 16.0, 17.5, 20.0])) == (
        "Why the LSTM's line may flatten: 75% of the test days closed above $15.00, the highest "
        "price in the training period. A model trained on past prices seldom predicts beyond "
        "what it has seen; repeating yesterday's price has no such limit."
    )
    # 2 of 4 below 10 (the minimum): 50%.
    assert "50% of the test days closed below $10.00, the lowest" in range_note(
        train, np.array([9.0, 8.0, 11.0, 12.0])
    )
    # 1 of 5 (20%) outside is under the 25% threshold: no note.
    assert range_note(train, np.array([11.0, 12.0, 13.0, 14.0, 16.0])) is None


def test_range_note_on_the_snapshot_explains_the_flat_msft_line() -> None:
    from lstm_core import data
    from lstm_core.preprocessing import split_count

    prices = data.load_snapshot().series("MSFT").to_numpy()
    lag = 60
    train_end = split_count(len(prices) - lag, 0.8) + lag
    train, test = prices[:train_end], prices[train_end:]
    share = np.mean(test > train.max())
    note = range_note(train, test)
    assert note is not None and f"{share:.0%} of the test days closed above" in note
