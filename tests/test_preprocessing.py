"""Windows, split and scaler, checked on np.arange where every value names its position."""

import math

import numpy as np
import pandas as pd
import pytest

from lstm_core.errors import NotEnoughDataError
from lstm_core.preprocessing import (
    StandardScaler,
    make_windows,
    minimum_prices,
    prepare,
    split_count,
)


def test_windows_on_arange_hold_the_right_positions() -> None:
    inputs, targets = make_windows(np.arange(10), lag=3)
    assert inputs.shape == (7, 3)
    assert inputs[0].tolist() == [0, 1, 2]
    assert targets[0] == 3
    assert inputs[-1].tolist() == [6, 7, 8]
    assert targets[-1] == 9
    # Every target is the value right after its window: no overlap, no gap (keras#14310).
    assert np.array_equal(inputs[:, -1] + 1, targets)


def test_window_count_is_n_minus_lag() -> None:
    for length, lag in [(61, 60), (100, 1), (1511, 60)]:
        inputs, targets = make_windows(np.arange(length), lag)
        assert len(inputs) == len(targets) == length - lag


def test_lag_too_long_raises_not_enough_data() -> None:
    with pytest.raises(NotEnoughDataError, match="a lag of 10 days needs at least 11"):
        make_windows(np.arange(10), lag=10)


def test_invalid_lag_raises_value_error() -> None:
    with pytest.raises(ValueError, match="lag must be a positive whole number, got 0"):
        make_windows(np.arange(10), lag=0)


@pytest.mark.parametrize(
    ("count", "fraction", "expected"),
    # By hand: 1160.8, 5, 79.2, 800, 2.1, 0.8 and 1.5 windows, rounded down.
    [(1451, 0.8, 1160), (10, 0.5, 5), (99, 0.8, 79), (1000, 0.8, 800), (7, 0.3, 2), (1, 0.8, 0),
     (3, 0.5, 1)],
)  # fmt: skip
def test_split_is_the_fraction_of_the_windows_rounded_down(count, fraction, expected) -> None:
    assert split_count(count, fraction) == expected


def test_split_count_on_hand_values() -> None:
    # 0.7 x 90 is 62.99999999999999 in floating point; the split must still be 63.
    assert split_count(90, 0.7) == 63
    assert split_count(1451, 0.8) == 1160
    assert split_count(10, 0.5) == 5
    assert split_count(30, 0.1) == 3
    assert split_count(99, 0.1) == 9


def test_minimum_prices_leaves_one_window_each_side() -> None:
    # The test days start at floor(0.8 n); one training window needs that index >= lag + 1 = 61.
    # 77 prices: floor(61.6) = 61; 76 prices: floor(60.8) = 60, no training window.
    assert minimum_prices(60, 0.8) == 77
    assert minimum_prices(1, 0.5) == 4


def test_split_by_days_on_arange_against_hand_values() -> None:
    # 90 prices, train share 0.7, validation 0.1: test days 63..89, validation days 54..62.
    for lag in (1, 5, 20):
        prepared = prepare(
            _series(np.arange(90.0) + 1), lag, 0.7, target="level", validation_fraction=0.1
        )
        assert prepared.test_actual.tolist() == list(range(64, 91))
        assert prepared.validation_actual.tolist() == list(range(55, 64))
        assert prepared.train_count == 54 - lag
        assert len(prepared.x_train) == 54 - lag
        # The last training target is day 53 (value 54): right before the validation period.
        assert prepared.scaler.inverse(prepared.y_train[-1:]).tolist() == pytest.approx([54])
        # A test window's inputs may reach back before the test period, never its target.
        first_inputs = prepared.scaler.inverse(prepared.x_test[0, :, 0])
        assert first_inputs.tolist() == pytest.approx(list(range(64 - lag, 64)))


def _series(values: np.ndarray) -> pd.Series:
    return pd.Series(values, index=pd.bdate_range("2020-01-01", periods=len(values)))


def test_prepare_splits_by_time_and_scales_with_training_prices_only() -> None:
    values = np.arange(100, dtype=float)
    prepared = prepare(_series(values), lag=5, train_fraction=0.8)
    assert prepared.train_count == 75  # test days from floor(0.8 x 100) = 80, less the lag
    assert prepared.test_count == 20
    touched = values[:80]
    assert prepared.scaler.mean == pytest.approx(touched.mean())
    assert prepared.scaler.std == pytest.approx(touched.std())
    # The first test window starts right after the last training window.
    first_test = prepared.scaler.inverse(prepared.x_test[0, :, 0])
    assert first_test.tolist() == pytest.approx([75, 76, 77, 78, 79])
    assert prepared.test_actual[0] == 80
    assert prepared.test_last_known[0] == 79
    assert prepared.test_dates[0] == _series(values).index[80]


def test_changing_test_prices_leaves_the_scaler_unchanged() -> None:
    values = np.arange(100, dtype=float) + 50
    before = prepare(_series(values), lag=5, train_fraction=0.8)
    changed = values.copy()
    changed[80:] = changed[80:] * 10 + 1000
    after = prepare(_series(changed), lag=5, train_fraction=0.8)
    assert after.scaler == before.scaler
    assert np.array_equal(after.x_train, before.x_train)
    assert not np.array_equal(after.y_test, before.y_test)


def test_scaler_round_trip_and_flat_series() -> None:
    scaler = StandardScaler.fit(np.array([1.0, 2.0, 3.0]))
    assert scaler.transform(np.array([2.0]))[0] == pytest.approx(0.0)
    assert scaler.inverse(scaler.transform(np.array([7.5])))[0] == pytest.approx(7.5)
    assert StandardScaler.fit(np.array([5.0, 5.0])).std == 1.0


def test_prepare_refuses_too_short_series_with_a_sentence() -> None:
    with pytest.raises(NotEnoughDataError, match="There are 50 prices; a lag of 60 days"):
        prepare(_series(np.arange(50.0)), lag=60, train_fraction=0.8)


def test_every_lag_gets_the_same_test_and_validation_days_on_the_snapshot() -> None:
    from lstm_core.data import load_snapshot

    series = load_snapshot().series("MSFT")
    splits = [
        prepare(series, lag, 0.8, target="change", validation_fraction=0.1) for lag in (10, 60, 120)
    ]
    first = splits[0]
    assert len(first.test_dates) == len(series) - math.floor(0.8 * len(series))
    for prepared in splits[1:]:
        assert prepared.test_dates.equals(first.test_dates)
        assert prepared.validation_dates.equals(first.validation_dates)
