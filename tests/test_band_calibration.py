"""The bands are calibrated on validation days that chose nothing, and hold what they promise.

With early stopping the validation period's first half chooses the epoch and only its later half
calibrates the bands (lstm_core.preprocessing.watched_validation_count). References: np.arange
prices whose values name their own positions, a stand-in model that repeats the last price, and
random walks with independent steps, on which an 80% band must hold about 80% of new prices.
"""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest

from lstm_core.forecasting.calibration import BandsNeedValidationError
from lstm_core.forecasting.forecast import check_forecast_fits, look_ahead
from lstm_core.model.pipeline import run_training
from lstm_core.preprocessing import prepare
from tests.test_look_ahead import TINY


class Persistence:
    """A stand-in model that predicts "no change": the window's last scaled input, which is
    today's scaled price for `level` and 0 (no change) for `change`."""

    def predict_on_batch(self, inputs: np.ndarray) -> np.ndarray:
        return inputs[:, -1, :]


def random_walk(count: int, seed: int, daily: float = 0.015) -> pd.Series:
    """Prices whose daily log changes are independent draws from one normal distribution."""
    generator = np.random.default_rng(seed)
    prices = 50 * np.exp(np.cumsum(generator.normal(0, daily, size=count)))
    return pd.Series(prices, index=pd.bdate_range("2010-01-04", periods=count), name="RW")


@pytest.mark.parametrize("target", ["change", "level"])
def test_on_a_random_walk_the_80_percent_band_holds_about_80_percent_of_test_prices(
    target,
) -> None:
    # 1,500 prices: 300 validation days (150 calibrate), 300 test origins; six walks.
    coverage = {step: [] for step in (1, 5, 10)}
    for seed in range(6):
        prepared = prepare(
            random_walk(1500, seed), 20, 0.8, target, validation_fraction=0.2, early_stopping=True
        )
        ahead = look_ahead(Persistence(), prepared, 10)
        assert ahead.calibration_counts[0] == 150 and ahead.test_origins == 300
        for step in coverage:
            coverage[step].append(ahead.coverage[0.8][step])
    for step, shares in coverage.items():
        assert abs(np.mean(shares) - 0.8) <= 0.05, (step, shares)


def test_early_stopping_watches_the_first_half_and_the_bands_calibrate_on_the_rest(
    monkeypatch,
) -> None:
    # Each price is 100 + its position, so a price names its day.
    series = pd.Series(
        np.arange(100.0, 500.0), index=pd.bdate_range("2016-01-01", periods=400), name="AR"
    )
    config = TINY.with_changes(
        lag=5, batch_size=64, epochs=2, patience=1, target="level", validation_fraction=0.3
    )
    watched_targets = []
    real_fit = keras.Model.fit

    def recording_fit(model, *arguments, **options):
        watched_targets.append(options["validation_data"][1])
        return real_fit(model, *arguments, **options)

    monkeypatch.setattr(keras.Model, "fit", recording_fit)
    result = run_training(config, series)
    prepared = result.prepared
    # Test targets from price 320 (floor(0.8 x 400)), 120 validation days before them.
    assert (prepared.train_count, prepared.validation_count) == (195, 120)
    validation_days = np.arange(200, 320)

    watched = np.rint(prepared.scaler.inverse(watched_targets[0])) - 100
    np.testing.assert_array_equal(watched, validation_days[:60])

    ahead = look_ahead(result.model, prepared, 10)
    first, last = (series.index.get_loc(date) for date in ahead.calibration_dates)
    calibrated = np.arange(first, last + 1)
    np.testing.assert_array_equal(calibrated, validation_days[60:])
    assert ahead.calibration_counts == [60 - step for step in range(10)]
    assert ahead.calibration_after_watched
    assert not set(calibrated) & set(watched)


def test_a_wild_month_on_the_watched_days_leaves_the_bands_as_they_were() -> None:
    series = random_walk(400, seed=11)
    wild = series.copy()
    # Prices 210..234 swing five times as much; every window they touch is one of the first 60
    # validation windows (targets 200..259), which early stopping watches.
    swings = np.random.default_rng(3).normal(0, 0.075, size=25)
    wild.iloc[210:235] *= np.exp(np.cumsum(swings))

    def bands(prices: pd.Series, early_stopping: bool):
        prepared = prepare(prices, 5, 0.8, "change", 0.3, early_stopping=early_stopping)
        assert prepared.validation_count == 120
        return look_ahead(Persistence(), prepared, 10)

    calm, stormy = bands(series, True), bands(wild, True)
    for level in (0.8, 0.95):
        np.testing.assert_array_equal(stormy.quantiles[level], calm.quantiles[level])
        np.testing.assert_array_equal(stormy.bands[level][1], calm.bands[level][1])
    assert stormy.coverage == calm.coverage
    # Without early stopping every validation day calibrates, and the wild month widens the bands.
    calm, stormy = bands(series, False), bands(wild, False)
    widening = stormy.quantiles[0.95] / calm.quantiles[0.95]
    assert np.all(widening >= 1) and np.mean(widening) > 1.05


def test_too_short_a_calibration_half_is_refused_with_the_share_that_would_do() -> None:
    # 1,000 prices at 10%: 100 validation days, of which early stopping leaves 50 to calibrate.
    with pytest.raises(BandsNeedValidationError) as refused:
        check_forecast_fits(1000, 5, 0.1, 10, early_stopping=True)
    assert str(refused.value) == (
        "With early stopping on, the bands are measured only on the later half of the "
        "validation period, the 50 days early stopping did not watch; they need at least 60, "
        "so 120 validation days (a validation share of at least 12%). Choose a larger "
        "validation share, or turn early stopping off (patience 0)."
    )
    check_forecast_fits(1000, 5, 0.12, 10, early_stopping=True)
    check_forecast_fits(1000, 5, 0.1, 10, early_stopping=False)
    prepared = prepare(random_walk(1000, 2), 5, 0.8, "change", 0.1, early_stopping=True)
    ahead = look_ahead(Persistence(), prepared, 10)
    assert ahead.bands is None and ahead.coverage is None
    assert ahead.bands_note == str(refused.value)
