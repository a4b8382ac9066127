"""The walk-forward backtest's cost and what it measures, for a preset on one ticker.

1. Cost: the backtest's wall time
   (`lstm_core.forecasting.backtest.run_backtest`: every fold's training
   through the app's code path, its one-day scoring and its 1..H-day recursive forecasts)
   over the sum of its folds' plain `model.fit(verbose=0)` times (a fresh model per fold, the
   same windows, validation data, early stopping, seed and epochs). Goal: <= 1.2.
2. What it measures: each fold's one-day RMSE ratio to persistence, their mean and spread, the
   RMSE by days ahead; and, for one plain run of the same preset, the coverage of the look-ahead
   bands on the held-out test period (`lstm_core.forecasting.forecast.look_ahead`),
   adaptive (the app's)
   and fixed-width, beside a random walk's band.

    .venv/bin/python bench/bench_backtest.py [--ticker MSFT] [--preset recommended]
        [--folds 5] [--horizon 10] [--seeds 42] [--json OUT]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras
import pandas as pd

from lstm_core import data, json_text
from lstm_core.config import QUICK_DEMO, RECOMMENDED, TUTORIAL_MODEL_1, TrainConfig
from lstm_core.forecasting.backtest import run_backtest
from lstm_core.forecasting.folds import fold_config, plan_folds
from lstm_core.forecasting.forecast import LEVELS, look_ahead, origin_forecasts
from lstm_core.model.network import build_model
from lstm_core.model.pipeline import run_training
from lstm_core.preprocessing import prepare

PRESET_NAMES = {"recommended": RECOMMENDED, "tutorial1": TUTORIAL_MODEL_1, "quick": QUICK_DEMO}


def plain_fold_fit(config: TrainConfig, series: pd.Series) -> float:
    """Seconds of a plain `fit` of a fresh model on the fold that `config` describes."""
    prepared = prepare(
        series,
        config.lag,
        config.train_fraction,
        target=config.target,
        validation_fraction=config.validation_fraction,
        early_stopping=config.patience > 0,
    )
    keras.backend.clear_session()
    keras.utils.set_random_seed(config.seed)
    callbacks = []
    if config.patience:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=config.patience, restore_best_weights=True
            )
        )
    started = time.perf_counter()
    model = build_model(config)
    model.fit(
        prepared.x_train,
        prepared.y_train,
        batch_size=config.batch_size,
        epochs=config.epochs,
        shuffle=True,
        verbose=0,
        # Early stopping watches the validation period's first half, as in the app.
        validation_data=(
            (
                prepared.x_validation[: prepared.watched_count],
                prepared.y_validation[: prepared.watched_count],
            )
            if prepared.validation_count
            else None
        ),
        callbacks=callbacks,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ticker", default="MSFT")
    parser.add_argument("--preset", default="recommended", choices=sorted(PRESET_NAMES))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--horizon", type=int, default=10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42])
    parser.add_argument("--json", type=Path)
    arguments = parser.parse_args()

    series = data.load_snapshot().series(arguments.ticker)
    base = PRESET_NAMES[arguments.preset].with_changes(ticker=arguments.ticker)
    report: dict = {"ticker": arguments.ticker, "preset": arguments.preset, "seeds": {}}
    for seed in arguments.seeds:
        config = base.with_changes(seed=seed)
        plans = plan_folds(config, len(series), arguments.folds)
        plain = [
            plain_fold_fit(fold_config(config, plan), series.iloc[: plan.end + config.lag])
            for plan in plans
        ]
        result = run_backtest(config, series, folds=arguments.folds, horizon=arguments.horizon)
        summary = result.ratio_summary()
        print(f"{config.label()}: {arguments.folds} folds, {arguments.horizon} days ahead")
        for fold, plain_seconds in zip(result.folds, plain, strict=True):
            print(
                f"  fold {fold.number}: origin {fold.origin_date:%Y-%m-%d}, {fold.n_train} "
                f"training windows, {len(fold.actual)} test days, ratio {fold.ratio:.3f} "
                f"(DM p {fold.comparison['dm_pvalue']:.3f}), epochs {fold.epochs_completed}, "
                f"fit {fold.fit_seconds:.1f} s (plain fit {plain_seconds:.1f} s)"
            )
        print(
            f"  ratio mean {summary['mean']:.3f}, sd {summary['sd']:.3f}, "
            f"range {summary['min']:.3f}-{summary['max']:.3f}"
        )
        print(
            "  RMSE by days ahead, LSTM/persistence: "
            + ", ".join(
                f"{step}: {lstm:.2f}/{naive:.2f}"
                for step, (lstm, naive) in enumerate(
                    zip(result.by_horizon["lstm"], result.by_horizon["persistence"], strict=True),
                    start=1,
                )
            )
        )
        cost = result.seconds / sum(plain)
        print(
            f"  cost: backtest {result.seconds:.1f} s (its fits {result.fit_seconds:.1f} s) / "
            f"plain fits {sum(plain):.1f} s = {cost:.2f}"
        )

        run = run_training(config, series)
        paths = origin_forecasts(run.model, run.prepared, arguments.horizon)
        looks = {
            adaptive: look_ahead(
                run.model, run.prepared, arguments.horizon, forecasts=paths, adaptive=adaptive
            )
            for adaptive in (True, False)
        }
        ahead = looks[True]
        print(
            f"  plain run: test ratio {run.comparison['rmse_ratio']:.3f}; look-ahead coverage "
            f"on {ahead.test_origins} test origins (random walk in brackets):"
        )
        for adaptive, each in looks.items():
            for level in LEVELS if each.coverage else ():
                shares = ", ".join(
                    f"h={step}: {share:.1%} [{each.persistence_coverage[level][step]:.1%}]"
                    for step, share in each.coverage[level].items()
                )
                kind = "adaptive" if adaptive else "fixed"
                print(f"    {kind} {level:.0%} band: {shares}")
        report["seeds"][seed] = {
            "backtest": result.to_json(),
            "plain_fit_seconds": plain,
            "cost_ratio": cost,
            "coverage": ahead.to_json()["coverage"],
            "fixed_band_coverage": looks[False].to_json()["coverage"],
            "bands_note": ahead.bands_note,
            "persistence_coverage": ahead.to_json()["persistence_coverage"],
            "test_ratio": run.comparison["rmse_ratio"],
            "half_widths": {
                str(level): [float(width) for width in ahead.half_widths[level]]
                for level in (LEVELS if ahead.half_widths else ())
            },
        }
    costs = [entry["cost_ratio"] for entry in report["seeds"].values()]
    print(f"cost ratio (backtest wall / plain fits): median {statistics.median(costs):.2f}")
    if arguments.json:
        arguments.json.write_text(json_text.dumps(report, indent=2))


if __name__ == "__main__":
    main()
