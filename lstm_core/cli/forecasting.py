"""`forecast` (past the last date, with calibrated bands) and `backtest` (walk-forward)."""

from __future__ import annotations

import argparse

from lstm_core.cli.options import (
    add_scheduler_option,
    add_train_options,
    check_json_folder,
    cluster_runner,
    config_from_arguments,
    load_prices,
    write_json,
)
from lstm_core.config import MODEL_NAMES
from lstm_core.evaluation.significance import ratio_verdict
from lstm_core.forecasting.backtest import run_backtest
from lstm_core.forecasting.folds import DEFAULT_FOLDS, plan_folds
from lstm_core.forecasting.forecast import (
    DEFAULT_HORIZON,
    LEVELS,
    LookAhead,
    check_forecast_fits,
    check_horizon,
    look_ahead,
)
from lstm_core.preprocessing import check_config_fits, check_prices_vary


def add_horizon_option(parser: argparse.ArgumentParser) -> None:
    """`--horizon H`: how many trading days ahead to forecast."""
    parser.add_argument(
        "--horizon", type=int, default=DEFAULT_HORIZON, help="trading days ahead (1-30)"
    )


def add_forecast_arguments(forecast: argparse.ArgumentParser) -> None:
    """`forecast`: train, then forecast past the last date with measured bands."""
    add_train_options(forecast)
    add_horizon_option(forecast)
    add_scheduler_option(forecast)


def add_backtest_arguments(backtest: argparse.ArgumentParser) -> None:
    """`backtest`: walk-forward folds over the last 40% of the history."""
    add_train_options(backtest)
    backtest.add_argument(
        "--folds", type=int, default=DEFAULT_FOLDS, help="folds over the last 40%% (2-10)"
    )
    add_horizon_option(backtest)
    add_scheduler_option(backtest)


def share_text(share: float | None) -> str:
    """A coverage share as '77%', or a dash when nothing could be counted."""
    return "-" if share is None else f"{share:.0%}"


def calibration_line(ahead: LookAhead) -> str:
    """Which validation days the bands were measured on, and why those."""
    first, last = ahead.calibration_dates
    why = (
        "the later half of the validation period, which early stopping did not watch"
        if ahead.calibration_after_watched
        else "the whole validation period"
    )
    return (
        f"bands measured on {ahead.calibration_counts[0]} validation days, {first:%Y-%m-%d} to "
        f"{last:%Y-%m-%d}: {why}"
    )


def forecast_command(arguments: argparse.Namespace) -> int:
    config = config_from_arguments(arguments)
    series = load_prices(arguments, config.ticker).series(config.ticker)
    horizon = check_horizon(arguments.horizon)
    # Refused before training: bands need a validation period long enough for the horizon.
    check_config_fits(len(series), config)
    check_forecast_fits(
        len(series),
        config.lag,
        config.validation_fraction,
        horizon,
        early_stopping=config.patience > 0,
    )
    check_prices_vary(series)
    check_json_folder(arguments.json)

    from lstm_core.model.pipeline import run_training

    with cluster_runner(arguments, restore_model=True) as runner:
        result = (runner or run_training)(config, series)
    ahead = look_ahead(result.model, result.prepared, horizon)
    print(f"{config.label()}: forecast {horizon} trading days after {series.index[-1]:%Y-%m-%d}")
    print(f"trained on days up to {ahead.trained_through:%Y-%m-%d}")
    print(ratio_verdict(result.comparison, model_name=MODEL_NAMES[result.config.model]))
    print(f"{'date':<12}{'LSTM':>10}{'80% band':>22}{'95% band':>22}")
    for day in range(horizon):
        bands = [ahead.bands[level] for level in LEVELS]
        print(
            f"{ahead.dates[day]:%Y-%m-%d}  {ahead.price[day]:>10.2f}"
            + "".join(f"{lower[day]:>11.2f}-{upper[day]:<10.2f}" for lower, upper in bands)
        )
    for level in LEVELS:
        held = ", ".join(
            f"{share_text(share)} at {step} day(s)" for step, share in ahead.coverage[level].items()
        )
        print(f"test period ({ahead.test_origins} origins): the {level:.0%} band held {held}")
    print(calibration_line(ahead))
    print("dates are business days; holidays are not known")
    write_json(arguments.json, {**result.to_json(), **ahead.to_json()})
    return 0


def backtest_command(arguments: argparse.Namespace) -> int:
    config = config_from_arguments(arguments)
    series = load_prices(arguments, config.ticker).series(config.ticker)
    horizon = check_horizon(arguments.horizon)
    plans = plan_folds(config, len(series), arguments.folds)
    check_prices_vary(series)
    check_json_folder(arguments.json)
    print(f"{config.label()}: walk-forward backtest, {len(plans)} folds, {horizon} days ahead")
    with cluster_runner(arguments, restore_model=True) as runner:
        outcome = run_backtest(config, series, folds=len(plans), horizon=horizon, runner=runner)
    print(
        f"{'fold':<6}{'origin':<12}{'train':>7}{'days':>6}{'LSTM RMSE':>11}"
        f"{'persist.':>10}{'ratio':>8}"
    )
    for fold in outcome.folds:
        print(
            f"{fold.number:<6}{fold.origin_date:%Y-%m-%d}  {fold.n_train:>5}{len(fold.actual):>6}"
            f"{fold.metrics['lstm']['rmse']:>11.2f}{fold.metrics['persistence']['rmse']:>10.2f}"
            f"{fold.ratio:>8.3f}"
        )
    summary = outcome.ratio_summary()
    print(f"one-day RMSE ratio to persistence: mean {summary['mean']:.3f}, sd {summary['sd']:.3f}")
    steps = ", ".join(
        f"{step}: {lstm:.2f}/{naive:.2f}"
        for step, (lstm, naive) in enumerate(
            zip(outcome.by_horizon["lstm"], outcome.by_horizon["persistence"], strict=True), 1
        )
    )
    print(f"RMSE by days ahead, LSTM/persistence ($): {steps}")
    print(f"{outcome.seconds:.1f} s in all, {outcome.fit_seconds:.1f} s of it fitting")
    write_json(arguments.json, outcome.to_json())
    return 0
