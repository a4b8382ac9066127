"""Learning daily changes, the validation period, and the significance of every verdict."""

import math

import keras
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lstm_core.config import TrainConfig
from lstm_core.errors import NotEnoughDataError
from lstm_core.evaluation.significance import (
    comparison,
    diebold_mariano,
    direction_test_pvalue,
    format_pvalue,
    ratio_verdict,
)
from lstm_core.model.pipeline import run_training
from lstm_core.preprocessing import ChangeScaler, check_fits, prepare

TINY = TrainConfig(lag=10, batch_size=32, epochs=2, units=(8,), dense_units=0)


def series_of(values: np.ndarray) -> pd.Series:
    return pd.Series(values, index=pd.bdate_range("2020-01-01", periods=len(values)))


def test_validation_windows_sit_just_before_an_unmoved_test_period() -> None:
    # 110 prices: the test days start at floor(0.8 x 110) = 88 either way: window 78 at lag 10.
    # Validation: floor(0.15 x 110) = 16 days before them, days 72..87.
    prices = series_of(np.arange(1.0, 111.0))
    plain = prepare(prices, 10, 0.8)
    validated = prepare(prices, 10, 0.8, validation_fraction=0.15)
    assert (plain.train_count, plain.validation_count, plain.test_start) == (78, 0, 78)
    assert (validated.train_count, validated.validation_count, validated.test_start) == (62, 16, 78)
    assert np.array_equal(validated.test_actual, plain.test_actual)
    assert validated.test_actual[0] == 89.0  # window 78 holds prices 79..88, its target is 89
    assert validated.validation_actual.tolist() == list(np.arange(73.0, 89.0))
    assert validated.validation_last_known.tolist() == list(np.arange(72.0, 88.0))
    assert validated.validation_dates[0] == prices.index[72]
    # The level scaler saw only the prices the 62 training windows touch: 1..72.
    assert validated.scaler.mean == pytest.approx(np.arange(1.0, 73.0).mean())
    assert len(validated.x_validation) == len(validated.y_validation) == 16


def test_change_target_by_hand() -> None:
    prices = series_of(np.array([100.0, 110.0, 121.0, 108.9, 130.68, 117.612, 141.1344]))
    prepared = prepare(prices, 2, 0.72, target="change")
    # Test days from floor(0.72 x 7) = 5, so windows 0..2 (targets 2..4) train.
    # Their targets' log changes: log 1.1, log 0.9, log 1.2.
    changes = np.log([1.1, 0.9, 1.2])
    assert prepared.change_scaler.scale == pytest.approx(changes.std())
    scale = changes.std()
    assert prepared.x_train[0, :, 0] == pytest.approx([math.log(100 / 110) / scale, 0.0])
    assert prepared.y_train[0] == pytest.approx(math.log(121 / 110) / scale)
    # Back to dollars: last price x exp(change); the real next price comes back exactly.
    dollars = prepared.to_dollars(np.array([math.log(121 / 110) / scale]), np.array([110.0]))
    assert dollars == pytest.approx([121.0])
    assert prepared.to_dollars(np.zeros(2), np.array([5.0, 7.0])) == pytest.approx([5.0, 7.0])


def test_nothing_fitted_changes_when_validation_or_test_prices_change() -> None:
    generator = np.random.default_rng(1)
    values = 100 * np.exp(np.cumsum(generator.normal(0, 0.01, 200)))
    original = prepare(series_of(values), 10, 0.8, target="change", validation_fraction=0.1)
    changed_values = values.copy()
    # Everything after the prices the training windows touch: validation and test alike.
    first_unseen = original.train_count + original.lag
    changed_values[first_unseen:] *= generator.uniform(0.5, 2.0, len(values) - first_unseen)
    changed = prepare(series_of(changed_values), 10, 0.8, target="change", validation_fraction=0.1)
    assert changed.change_scaler == original.change_scaler
    assert changed.scaler == original.scaler
    assert np.array_equal(changed.x_train, original.x_train)
    assert np.array_equal(changed.y_train, original.y_train)
    assert not np.array_equal(changed.x_validation, original.x_validation)


def test_change_scaler_refuses_nothing_and_flat_series_gets_scale_one() -> None:
    windows = np.full((3, 4), 50.0)
    assert ChangeScaler.fit(windows, np.full(3, 50.0)).scale == 1.0
    with pytest.raises(NotEnoughDataError, match="Daily changes need positive prices"):
        prepare(series_of(np.array([1.0, 0.0, 2.0, 3.0, 4.0, 5.0])), 2, 0.5, target="change")


def test_validation_that_leaves_no_window_is_refused_with_a_sentence() -> None:
    with pytest.raises(NotEnoughDataError) as raised:
        check_fits(19, 10, 0.8, 1, validation_fraction=0.05)  # floor(0.95) = 0 days
    assert str(raised.value) == (
        "A validation share of 5% of 19 days leaves no validation day; choose a larger "
        "validation share or load a longer history."
    )
    with pytest.raises(NotEnoughDataError) as raised:
        # Test days from 15, 12 validation days before them: no room for a lag-10 window.
        check_fits(60, 10, 0.25, 1, validation_fraction=0.2)
    assert str(raised.value).startswith("A validation share of 20% leaves no training window")


def hand_diebold_mariano(actual, first, second) -> tuple[float, float]:
    """Diebold-Mariano with a Bartlett-weighted long-run variance and Harvey's correction."""
    difference = (first - actual) ** 2 - (second - actual) ** 2
    count = len(difference)
    lags = math.ceil(count ** (1 / 3))
    centred = difference - difference.mean()
    autocovariances = [np.sum(centred[k:] * centred[: count - k]) / count for k in range(lags + 1)]
    long_run = autocovariances[0] + 2 * sum(
        (1 - k / (lags + 1)) * autocovariances[k] for k in range(1, lags + 1)
    )
    statistic = difference.mean() / math.sqrt(long_run / count) * math.sqrt((count - 1) / count)
    return statistic, 2 * stats.t.sf(abs(statistic), count - 1)


def test_diebold_mariano_matches_a_hand_computation() -> None:
    generator = np.random.default_rng(3)
    actual = generator.normal(size=30).cumsum()
    first = actual + generator.normal(0, 1, 30)
    second = actual + generator.normal(0, 1.3, 30)
    statistic, pvalue = diebold_mariano(actual, first, second)
    expected_statistic, expected_pvalue = hand_diebold_mariano(actual, first, second)
    assert statistic == pytest.approx(expected_statistic, rel=1e-9)
    assert pvalue == pytest.approx(expected_pvalue, rel=1e-9)
    assert statistic < 0 and pvalue < 0.05  # the first forecast's errors are smaller


def test_identical_forecasts_give_no_evidence() -> None:
    actual = np.array([1.0, 2.0, 3.0, 2.5, 2.0])
    forecast = np.array([1.1, 1.9, 3.3, 2.0, 2.1])
    assert diebold_mariano(actual, forecast, forecast.copy()) == (0.0, 1.0)


def test_pesaran_timmermann_matches_a_hand_computation_and_is_undefined_without_moves() -> None:
    generator = np.random.default_rng(3)
    real = generator.normal(size=40)
    predicted = real + generator.normal(0, 1, 40)
    up_real, up_predicted = np.mean(real > 0), np.mean(predicted > 0)
    hits = np.mean((real > 0) == (predicted > 0))
    expected = up_real * up_predicted + (1 - up_real) * (1 - up_predicted)
    variance = expected * (1 - expected) / 40
    correction = (
        (2 * up_real - 1) ** 2 * up_predicted * (1 - up_predicted)
        + (2 * up_predicted - 1) ** 2 * up_real * (1 - up_real)
    ) / 40
    statistic = (hits - expected) / math.sqrt(variance - correction)
    assert direction_test_pvalue(real, predicted) == pytest.approx(
        2 * stats.norm.sf(abs(statistic)), rel=1e-9
    )
    assert direction_test_pvalue(real, np.zeros(40)) is None


def test_comparison_and_verdict_in_plain_words() -> None:
    actual = np.array([10.0, 11.0, 10.5, 11.5, 12.0, 11.0])
    last_known = np.array([9.5, 10.0, 11.0, 10.5, 11.5, 12.0])
    predicted = last_known + np.array([0.2, 0.3, -0.1, 0.4, 0.1, -0.2])
    figures = comparison(actual, predicted, last_known, last_known)
    model_rmse = np.sqrt(np.mean((predicted - actual) ** 2))
    baseline_rmse = np.sqrt(np.mean((last_known - actual) ** 2))
    assert figures["rmse_ratio"] == pytest.approx(model_rmse / baseline_rmse)
    assert figures["up_share"] == pytest.approx(4 / 6)
    luck = {"rmse_ratio": 0.98, "dm_pvalue": 0.41}
    assert ratio_verdict(luck) == (
        "On the held-out test period the LSTM's typical error is 0.98x the baseline's, a gap "
        "within what luck explains (p = 0.41)."
    )
    worse = {"rmse_ratio": 5.3, "dm_pvalue": 1e-9}
    assert ratio_verdict(worse, period="validation") == (
        "On the validation period the LSTM's typical error is 5.30x the baseline's: the LSTM is "
        "worse than repeating yesterday's price, and the gap is more than luck (p < 0.001)."
    )
    assert ratio_verdict(worse, period="validation", chose_epoch=True) == (
        "On the validation period the LSTM's typical error is 5.30x the baseline's: the LSTM is "
        "worse than repeating yesterday's price, and the gap is more than luck (p < 0.001) "
        "(this period chose the epoch, so its p-value is optimistic)."
    )
    assert format_pvalue(0.012) == "p = 0.012"
    too_few = comparison(actual[:2], predicted[:2], last_known[:2], last_known[:2])
    assert too_few["dm_pvalue"] is None
    assert ratio_verdict(too_few).endswith("the baseline's.")


def test_early_stopping_keeps_the_best_validation_epoch(synthetic_series) -> None:
    config = TINY.with_changes(
        epochs=8, validation_fraction=0.2, patience=2, learning_rate=0.03, target="change"
    )
    result = run_training(config, synthetic_series)
    history = result.validation_loss_history
    assert len(history) == result.epochs_completed == len(result.loss_history)
    assert result.best_epoch == int(np.argmin(history)) + 1
    prepared = result.prepared
    # Early stopping watches the first half of the 60 validation days only: the later half is
    # left to calibrate the forecast's bands.
    assert prepared.validation_count == 60 and prepared.watched_count == 30
    kept_loss = result.model.evaluate(
        prepared.x_validation[:30], prepared.y_validation[:30], verbose=0, batch_size=1024
    )
    assert kept_loss == pytest.approx(min(history), rel=1e-4)
    assert f"epoch {result.best_epoch}'s weights" in result.kept_weights_note()
    if result.early_stopped:
        assert result.epochs_completed == result.best_epoch + config.patience


def test_a_run_with_validation_reports_both_periods(synthetic_series) -> None:
    keras.utils.set_random_seed(1)
    plain = run_training(TINY, synthetic_series)
    validated = run_training(TINY.with_changes(validation_fraction=0.1), synthetic_series)
    assert plain.validation is None
    assert np.array_equal(plain.actual, validated.actual)
    period = validated.validation
    assert period["n"] == 30  # floor(0.1 x 300 prices), whatever the lag
    assert period["comparison"]["rmse_ratio"] == pytest.approx(
        period["metrics"]["lstm"]["rmse"] / period["metrics"]["persistence"]["rmse"]
    )
    test_figures = validated.comparison
    assert test_figures["rmse_ratio"] == pytest.approx(
        validated.metrics["lstm"]["rmse"] / validated.metrics["persistence"]["rmse"]
    )
    assert 0 <= test_figures["dm_pvalue"] <= 1
    assert len(validated.validation_loss_history) == 2
    payload = validated.to_json()
    assert set(payload["comparison"]) >= {"rmse_ratio", "dm_statistic", "dm_pvalue"}
    assert payload["history"]["val_loss"] == validated.validation_loss_history
    assert payload["config"]["validation_fraction"] == 0.1
