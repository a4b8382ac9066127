"""Forecasts past the data, conformal bands, their coverage, and the walk-forward folds.

References are independent: a hand-rolled loop over `model.predict`, numpy's quantile, loops
over indexes written out here, and np.arange prices whose values name their own positions.
"""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
from pathlib import Path
from statistics import NormalDist

import keras
import numpy as np
import pandas as pd
import pytest

from lstm_core.config import TrainConfig
from lstm_core.errors import NotEnoughDataError
from lstm_core.experiments.store import RunStore
from lstm_core.forecasting.backtest import run_backtest
from lstm_core.forecasting.calibration import (
    MIN_VOLATILITY,
    BandsNeedValidationError,
    conformal_quantile,
    minimum_calibration,
    recent_volatility,
)
from lstm_core.forecasting.folds import fold_boundaries, fold_config, plan_folds
from lstm_core.forecasting.forecast import (
    check_forecast_fits,
    future_dates,
    look_ahead,
    recursive_forecast,
)
from lstm_core.model.network import build_model
from lstm_core.preprocessing import prepare

TINY = TrainConfig(
    ticker="SYN",
    lag=10,
    batch_size=128,
    epochs=1,
    units=(8,),
    dense_units=0,
    target="change",
    validation_fraction=0.1,
)


@pytest.mark.parametrize("target", ["change", "level"])
def test_recursive_forecast_matches_a_hand_rolled_loop_over_predict(
    synthetic_series, target
) -> None:
    prepared = prepare(synthetic_series, 10, 0.8, target=target, validation_fraction=0.1)
    keras.utils.set_random_seed(3)
    model = build_model(TINY)
    windows = np.stack([prepared.prices[start : start + 10] for start in (0, 140, 289)])
    horizon = 3

    expected = np.empty((len(windows), horizon))
    for row, window in enumerate(windows):
        current = window.copy()
        for step in range(horizon):
            scaled = model.predict(prepared.encode(current[None, :]), verbose=0)
            price = prepared.to_dollars(scaled, current[-1:])[0]
            expected[row, step] = price
            current = np.append(current[1:], price)

    forecasts = recursive_forecast(model, prepared, windows, horizon)
    np.testing.assert_allclose(forecasts, expected, rtol=1e-5)
    # The model really moves the line, so the recursion is tested, not a constant.
    assert np.ptp(forecasts[0]) > 0


def test_conformal_quantile_is_the_finite_sample_rank_numpy_agrees_with() -> None:
    scores = np.array([0.3, 1.2, 0.7, 2.5, 0.1, 0.9, 1.8, 0.4, 1.1, 0.6])
    # ceil(11 x 0.8) = 9: the 9th smallest of 10.
    assert conformal_quantile(scores, 0.8) == 1.8
    assert conformal_quantile(scores, 0.8) == np.quantile(scores, 9 / 10, method="inverted_cdf")
    # ceil(11 x 0.95) = 11 > 10: no finite band has the promised coverage.
    assert conformal_quantile(scores, 0.95) == math.inf
    generator = np.random.default_rng(0)
    many = np.abs(generator.normal(size=137))
    for level in (0.8, 0.95):
        rank = math.ceil(138 * level) / 137
        assert conformal_quantile(many, level) == np.quantile(many, rank, method="inverted_cdf")
    assert (minimum_calibration(0.95), minimum_calibration(0.8)) == (19, 4)
    assert conformal_quantile(many[:19], 0.95) == many[:19].max()


class ShrinkingModel:
    """A stand-in model: predicts half the mean of the window's last three scaled inputs."""

    def predict_on_batch(self, inputs: np.ndarray) -> np.ndarray:
        return 0.5 * inputs[:, -3:, 0].mean(axis=1, keepdims=True)


def random_walk(count: int, seed: int) -> pd.Series:
    generator = np.random.default_rng(seed)
    prices = 50 * np.exp(np.cumsum(generator.normal(0, 0.02, size=count)))
    return pd.Series(prices, index=pd.bdate_range("2021-03-01", periods=count), name="RW")


@pytest.mark.parametrize("adaptive", [True, False])
@pytest.mark.parametrize("target", ["change", "level"])
def test_bands_and_coverage_counted_by_hand_on_a_small_series(target, adaptive) -> None:
    series = random_walk(90, seed=5)
    lag, horizon = 5, 3
    prepared = prepare(series, lag, 0.6, target=target, validation_fraction=0.3)
    prices = prepared.prices
    model = ShrinkingModel()
    train, validation = prepared.train_count, prepared.validation_count
    assert validation >= minimum_calibration(0.95) + horizon - 1

    def path(last: int) -> list[float]:
        """The recursive forecast from the window ending at price index `last`, by hand."""
        window = prices[last - lag + 1 : last + 1].copy()
        out = []
        for _ in range(horizon):
            scaled = model.predict_on_batch(prepared.encode(window[None, :]))
            price = float(prepared.to_dollars(scaled, window[-1:])[0])
            out.append(price)
            window = np.append(window[1:], price)
        return out

    def scale(last: int) -> float:
        """1, or the origin's recent volatility: RMS of its window's daily log changes."""
        if not adaptive:
            return 1.0
        changes = [
            math.log(prices[day] / prices[day - 1]) for day in range(last - lag + 2, last + 1)
        ]
        volatility = math.sqrt(sum(change**2 for change in changes) / len(changes))
        return volatility if target == "change" else volatility * prices[last]

    def score(last: int, step: int) -> float:
        real, predicted = prices[last + step], path(last)[step - 1]
        error = math.log(real / predicted) if target == "change" else real - predicted
        return abs(error) / scale(last)

    ahead = look_ahead(model, prepared, horizon, adaptive=adaptive)
    validation_last_price = train + validation + lag - 1
    for step in range(1, horizon + 1):
        scores = []
        for window in range(train, train + validation):
            last = window + lag - 1
            if last + step <= validation_last_price:
                scores.append(score(last, step))
        assert len(scores) == validation - step + 1
        for level in (0.8, 0.95):
            quantile = sorted(scores)[math.ceil((len(scores) + 1) * level) - 1]
            assert ahead.quantiles[level][step - 1] == pytest.approx(quantile)
            assert ahead.half_widths[level][step - 1] == pytest.approx(
                quantile * scale(len(prices) - 1)
            )
            if step in ahead.coverage[level]:
                inside = total = 0
                for window in range(train + validation, len(prices) - lag):
                    last = window + lag - 1
                    if last + step < len(prices):
                        total += 1
                        inside += score(last, step) <= quantile
                assert ahead.coverage[level][step] == pytest.approx(inside / total)
    final = path(len(prices) - 1)
    np.testing.assert_allclose(ahead.price, final)
    lower, upper = ahead.bands[0.8]
    if target == "change":
        np.testing.assert_allclose(lower, final * np.exp(-ahead.half_widths[0.8]))
    else:
        np.testing.assert_allclose(upper, final + ahead.half_widths[0.8])


def test_persistence_band_dates_and_the_refusal_without_validation() -> None:
    series = random_walk(90, seed=8)  # ends on a Friday
    assert series.index[-1].day_name() == "Friday"
    prepared = prepare(series, 5, 0.6, target="change", validation_fraction=0.0)
    ahead = look_ahead(ShrinkingModel(), prepared, 3)
    assert ahead.bands is None and ahead.coverage is None
    assert "validation period" in ahead.bands_note
    assert [day.strftime("%a %d") for day in ahead.dates] == ["Mon 05", "Tue 06", "Wed 07"]
    assert list(future_dates(pd.Timestamp("2021-07-02"), 2).day) == [5, 6]
    daily = np.std(np.diff(np.log(prepared.prices[: prepared.train_count + 5])))
    z = NormalDist().inv_cdf(0.975)
    _lower, upper = ahead.persistence_bands[0.95]
    np.testing.assert_allclose(upper, series.iloc[-1] * np.exp(z * daily * np.sqrt([1, 2, 3])))
    np.testing.assert_allclose(ahead.persistence, series.iloc[-1])
    with pytest.raises(BandsNeedValidationError, match="set a validation share above 0"):
        check_forecast_fits(90, 5, 0.0, 3)
    with pytest.raises(BandsNeedValidationError, match="need at least 48"):
        check_forecast_fits(90, 5, 0.3, 30)
    with pytest.raises(ValueError, match="between 1 and 30"):
        check_forecast_fits(90, 5, 0.3, 31)


def test_look_ahead_json_has_the_issues_keys() -> None:
    prepared = prepare(random_walk(200, seed=2), 5, 0.6, target="change", validation_fraction=0.3)
    written = look_ahead(ShrinkingModel(), prepared, 10).to_json()
    for name in ("forecast", "persistence_forecast"):
        assert set(written[name]) == {
            "dates",
            "price",
            "lower80",
            "upper80",
            "lower95",
            "upper95",
        }
        assert len(written[name]["upper95"]) == 10
    assert set(written["coverage"]) == {"80", "95"}
    assert set(written["coverage"]["80"]) == {"1", "5", "H"}
    assert all(0 <= share <= 1 for share in written["coverage"]["95"].values())


ARANGE = pd.Series(
    np.arange(100.0, 600.0), index=pd.bdate_range("2015-01-01", periods=500), name="AR"
)
"""Each price is 100 + its own position, so a value tells which day it came from."""


@pytest.mark.parametrize("folds", range(2, 11))
def test_fold_boundaries_on_arange_never_train_at_or_after_the_origin(folds) -> None:
    config = TINY.with_changes(batch_size=16)
    plans = plan_folds(config, len(ARANGE), folds)
    windows = len(ARANGE) - config.lag
    tested = math.floor(0.4 * windows)
    assert plans[0].origin == windows - tested and plans[-1].end == windows
    lengths = [plan.end - plan.origin for plan in plans]
    assert sum(lengths) == tested and max(lengths) - min(lengths) <= 1
    for plan, following in itertools.pairwise(plans):
        assert plan.end == following.origin
    for plan in plans:
        prepared = prepare(
            ARANGE.iloc[: plan.end + config.lag],
            config.lag,
            fold_config(config, plan).train_fraction,
            target="level",
            validation_fraction=fold_config(config, plan).validation_fraction,
        )
        assert prepared.train_count == plan.train_count and prepared.test_start == plan.origin
        assert prepared.validation_count == plan.validation_count > 0
        # The latest price any training or validation window touches is the origin's "today".
        fitted_prices = prepared.scaler.inverse(
            np.concatenate([prepared.x_validation.ravel(), prepared.y_validation])
        )
        assert fitted_prices.max() == pytest.approx(100 + plan.origin + config.lag - 1)
        assert prepared.test_actual[0] == 100 + plan.origin + config.lag
        assert len(prepared.test_actual) == plan.end - plan.origin
    assert fold_boundaries(100, 4) == [60, 70, 80, 90, 100]


def test_too_little_history_for_the_folds_names_the_least_that_works() -> None:
    config = TINY.with_changes(batch_size=16)
    with pytest.raises(NotEnoughDataError) as refused:
        plan_folds(config, 40, 5)
    message = str(refused.value)
    assert message.startswith("There are 40 prices; a backtest of 5 folds at a lag of 10 days")
    needed = int(message.split("needs at least ")[1].split()[0])
    plan_folds(config, needed, 5)
    with pytest.raises(NotEnoughDataError):
        plan_folds(config, needed - 1, 5)
    for folds in (1, 11):
        with pytest.raises(ValueError, match="between 2 and 10"):
            plan_folds(config, 500, folds)


def test_backtest_scores_folds_by_hand_and_a_stop_keeps_finished_folds(
    synthetic_series, monkeypatch, tmp_path
) -> None:
    from lstm_core.model import pipeline

    # From batch 100 on every fold reuses one compiled model
    # (see lstm_core.model.training.fit_options).
    config = TINY
    seen = []
    real_run = pipeline.run_training

    def recording_run(fold, series, progress=None, should_stop=None):
        result = real_run(fold, series, progress=progress, should_stop=should_stop)
        seen.append((len(series), result.prepared.test_start))
        return result

    monkeypatch.setattr(pipeline, "run_training", recording_run)
    reports = []
    result = run_backtest(config, synthetic_series, folds=2, horizon=3, progress=reports.append)
    plans = plan_folds(config, len(synthetic_series), 2)
    assert seen == [(plan.end + config.lag, plan.origin) for plan in plans]
    assert reports[0].describe() == "Fold 1 of 2" and reports[-1].fold == 2
    assert [fold.n_train for fold in result.folds] == [plan.train_count for plan in plans]

    prices = synthetic_series.to_numpy()
    lasts = np.concatenate([np.arange(plan.origin, plan.end) for plan in plans]) + config.lag - 1
    for step in (1, 2, 3):
        known = lasts[lasts + step < len(prices)]
        naive = np.sqrt(np.mean((prices[known + step] - prices[known]) ** 2))
        assert result.by_horizon["persistence"][step - 1] == pytest.approx(naive)
    one_day = result.one_day()
    np.testing.assert_allclose(one_day["actual"], prices[lasts + 1])
    lstm_rmse = np.sqrt(np.mean((one_day["lstm"] - one_day["actual"]) ** 2))
    assert result.by_horizon["lstm"][0] == pytest.approx(lstm_rmse, rel=1e-4)
    for fold in result.folds:
        # The recursion's first step is the fold's own one-day forecast.
        np.testing.assert_allclose(fold.forecasts[:, 0], fold.predicted, rtol=1e-4)
        assert fold.ratio == pytest.approx(
            fold.metrics["lstm"]["rmse"] / fold.metrics["persistence"]["rmse"]
        )
    written = result.to_json()
    assert set(written["folds"][0]) >= {"origin", "n_train", "test_dates", "metrics", "comparison"}
    assert set(written["folds"][0]["metrics"]) == {"lstm", "persistence"}
    assert written["folds"][0]["origin"] == synthetic_series.index[lasts[0]].strftime("%Y-%m-%d")

    store = RunStore(str(tmp_path / "runs.sqlite"))
    store.save_backtest(result, owner="ann")
    again = RunStore(str(tmp_path / "runs.sqlite")).latest_backtest(owner="ann")
    np.testing.assert_array_equal(again.ratios(), result.ratios())
    assert again.by_horizon == result.by_horizon and again.to_json() == result.to_json()
    for name in ("actual", "lstm", "persistence"):
        np.testing.assert_array_equal(again.one_day()[name], result.one_day()[name])
    assert store.latest_backtest(owner="bob") is None

    def stop_in_fold_two() -> bool:
        return bool(reports) and reports[-1].fold == 2

    reports.clear()
    stopped = run_backtest(
        config,
        synthetic_series,
        folds=2,
        horizon=3,
        progress=reports.append,
        should_stop=stop_in_fold_two,
    )
    assert stopped.stopped and len(stopped.folds) == 1
    np.testing.assert_allclose(stopped.folds[0].predicted, result.folds[0].predicted)
    assert stopped.ratio_summary()["sd"] is None


def test_recent_volatility_reads_only_the_last_twenty_daily_changes() -> None:
    calm = 100 * np.exp(0.01 * np.arange(21))  # 20 changes of exactly 1%
    wild = 50 * np.exp(np.random.default_rng(1).normal(0, 0.2, size=39))
    window = np.concatenate([wild * calm[0] / wild[-1] * 0.9, calm])
    assert len(window) == 60
    np.testing.assert_allclose(recent_volatility(window[None, :]), [0.01])
    assert recent_volatility(np.full((1, 30), 7.0))[0] == MIN_VOLATILITY


def test_importing_the_forecast_backtest_and_cli_loads_no_tensorflow_or_streamlit() -> None:
    code = (
        "import sys, lstm_core.forecasting.forecast, lstm_core.forecasting.backtest, "
        "lstm_core.charts.forecast, "
        "lstm_core.cli; print(sorted(m for m in ('streamlit', 'tensorflow', 'keras') "
        "if m in sys.modules))"
    )
    project = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=project, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
