"""How many recent days the adaptive bands' volatility should read, chosen without the test
period and without the days the app calibrates its bands on.

The look-ahead bands divide each forecast error by its origin's recent volatility, the root mean
square of its last N daily log changes (`recent_volatility`), and scale the band back by the
forecast day's own. This compares N in {10, 20, 40, 60} (60 is capped by the lag's 59 changes)
and fixed-width bands (N = "fixed") on each snapshot ticker, two ways:

A. On the validation days early stopping watches (the Recommended preset, early stopping on,
   forecasting 1, 5 and 10 days ahead from each): the mean width of the band that holds exactly
   80% (and 95%) of their errors, over the fixed-width band's; and the coverage on the watched
   days' second half of a band calibrated on their first half.
B. On the training days (before any validation day), with persistence's errors so that no
   fitted model's in-sample errors enter: calibrate on 75 days (the size of the app's
   calibration half), measure the coverage on the next 75, rolling on; the mean distance of
   that coverage from 80% (95%) and the mean width.

The test period is never read, and neither are the later validation days the bands calibrate on.

    .venv/bin/python bench/bench_volatility_window.py [--tickers AAPL AMZN GOOG MSFT] [--seed 42]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from lstm_core import data
from lstm_core.config import RECOMMENDED
from lstm_core.forecasting.calibration import LEVELS, conformal_quantile, recent_volatility
from lstm_core.forecasting.forecast import horizon_errors, origin_forecasts, origins_of
from lstm_core.model.pipeline import run_training
from lstm_core.preprocessing import make_windows, prepare_config

CANDIDATES = (10, 20, 40, 60, None)
"""Volatility windows in days; None is the fixed-width band (every scale 1)."""
STEPS = (1, 5, 10)
BLOCK = 75


def name(window: int | None) -> str:
    return "fixed" if window is None else f"N={window}"


def scales_of(windows: np.ndarray, window: int | None) -> np.ndarray:
    return np.ones(len(windows)) if window is None else recent_volatility(windows, days=window)


def watched_days(ticker: str, seed: int) -> dict[int | None, dict[str, list[float]]]:
    """Part A: widths relative to the fixed band's, and first-half to second-half coverage
    errors, on the forecasts from the validation days early stopping watched."""
    config = RECOMMENDED.with_changes(ticker=ticker, seed=seed)
    run = run_training(config, data.load_snapshot().series(ticker))
    prepared = run.prepared
    assert prepared.early_stopping and prepared.calibration_start == prepared.watched_count
    windows, last_indexes = origins_of(prepared)
    paths = origin_forecasts(run.model, prepared, max(STEPS))
    count = prepared.watched_count
    watched = slice(0, count)
    # The h-step targets stay on watched days too.
    watched_end = last_indexes[count - 1] + 1
    errors = horizon_errors(
        paths[watched], prepared.prices[: watched_end + 1], last_indexes[watched], in_logs=True
    )
    half = count // 2
    found = {window: {"width": [], "transfer": []} for window in CANDIDATES}
    for window in CANDIDATES:
        scales = scales_of(windows[watched], window)
        for step in STEPS:
            step_errors = np.abs(errors[step - 1])
            scaled = step_errors / scales[: len(step_errors)]
            for level in LEVELS:
                fixed = conformal_quantile(step_errors, level)
                quantile = conformal_quantile(scaled, level)
                width = quantile * float(np.mean(scales[: len(step_errors)]))
                found[window]["width"].append(width / fixed)
                first = conformal_quantile(scaled[: half - step + 1], level)
                found[window]["transfer"].append(abs(np.mean(scaled[half:] <= first) - level))
    print(
        f"A {ticker}: {count} watched validation days {prepared.validation_dates[0]:%Y-%m-%d}.."
        f"{prepared.validation_dates[count - 1]:%Y-%m-%d}, kept epoch {run.best_epoch}; "
        "width / fixed band's, |coverage - level| (first half -> second half): "
        + ", ".join(
            f"{name(window)} {statistics.mean(found[window]['width']):.3f}, "
            f"{statistics.mean(found[window]['transfer']):.3f}"
            for window in CANDIDATES
        ),
        flush=True,
    )
    return found


def training_days(ticker: str) -> dict[int | None, dict[str, list[float]]]:
    """Part B: persistence's errors on the training days, calibrated on one block of BLOCK
    days and checked on the next, rolling on: |coverage - level| and the band's mean width."""
    config = RECOMMENDED.with_changes(ticker=ticker)
    series = data.load_snapshot().series(ticker)
    prepared = prepare_config(series, config)
    prices = prepared.train_prices
    windows, _ = make_windows(prices, prepared.lag)
    last = np.arange(len(windows)) + prepared.lag - 1
    found = {window: {"miss": [], "width": []} for window in CANDIDATES}
    for step in STEPS:
        known = last + step < len(prices)
        errors = np.abs(np.log(prices[last[known] + step] / prices[last[known]]))
        for window in CANDIDATES:
            scales = scales_of(windows[known], window)
            scaled = errors / scales
            for start in range(0, len(scaled) - 2 * BLOCK - step, BLOCK):
                calibration = scaled[start : start + BLOCK - step + 1]
                check = slice(start + BLOCK, start + 2 * BLOCK)
                for level in LEVELS:
                    quantile = conformal_quantile(calibration, level)
                    found[window]["miss"].append(abs(np.mean(scaled[check] <= quantile) - level))
                    found[window]["width"].append(quantile * float(np.mean(scales[check])))
    print(
        f"B {ticker}: training days {prepared.dates[0]:%Y-%m-%d}.."
        f"{prepared.trained_through:%Y-%m-%d}; |coverage - level|, width (log price): "
        + ", ".join(
            f"{name(window)} {statistics.mean(found[window]['miss']):.3f}, "
            f"{statistics.mean(found[window]['width']):.4f}"
            for window in CANDIDATES
        ),
        flush=True,
    )
    return found


def pooled(results: list[dict], key: str) -> dict[int | None, float]:
    return {
        window: statistics.mean(value for found in results for value in found[window][key])
        for window in CANDIDATES
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tickers", nargs="+", default=["AAPL", "AMZN", "GOOG", "MSFT"])
    parser.add_argument("--seed", type=int, default=42)
    arguments = parser.parse_args()
    part_a = [watched_days(ticker, arguments.seed) for ticker in arguments.tickers]
    part_b = [training_days(ticker) for ticker in arguments.tickers]
    rows = {
        "A width / fixed band's": pooled(part_a, "width"),
        "A |coverage - level|, first half -> second": pooled(part_a, "transfer"),
        "B |coverage - level|, block -> next block": pooled(part_b, "miss"),
        "B width (log price)": pooled(part_b, "width"),
    }
    print(f"all {len(arguments.tickers)} tickers, levels 80% and 95%, steps {STEPS}:")
    for label, values in rows.items():
        print(f"  {label}: " + ", ".join(f"{name(w)} {v:.4f}" for w, v in values.items()))


if __name__ == "__main__":
    main()
