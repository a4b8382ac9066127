"""`python -m lstm_core train|sweep|forecast|backtest|tune ...`: train on the snapshot or a CSV.

`train` prints LSTM against persistence; `sweep` does so for every lag x batch size (x seed);
`forecast` looks past the last date with calibrated bands; `backtest` retrains before each of
several origins and scores each block. `train` and `sweep` take --scheduler (or
$LSTM_LAB_DASK) to train on a Dask cluster's workers. `tune` runs an Optuna study on the
validation period and judges its best trial once on test.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lstm_core import data
from lstm_core.config import TARGETS, TrainConfig
from lstm_core.errors import LabError
from lstm_core.evaluation.metrics import METRIC_LABELS, METRIC_NAMES
from lstm_core.evaluation.significance import format_pvalue, ratio_verdict
from lstm_core.forecasting.backtest import run_backtest
from lstm_core.forecasting.folds import DEFAULT_FOLDS, plan_folds
from lstm_core.forecasting.forecast import (
    DEFAULT_HORIZON,
    LEVELS,
    check_forecast_fits,
    check_horizon,
    look_ahead,
)
from lstm_core.preprocessing import check_config_fits


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad option as one `error:` line with exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"error: {message}\n")
        raise SystemExit(2)


def add_train_options(
    parser: argparse.ArgumentParser,
    single_run: bool = True,
    defaults: TrainConfig | None = None,
) -> None:
    """The options every command that trains shares, defaults from `defaults` (else the
    tutorial's model 1).

    `single_run` adds --lag, --batch-size and --seed; a sweep names several of each instead.
    """
    defaults = defaults or TrainConfig()
    parser.add_argument("--ticker", default=defaults.ticker)
    if single_run:
        parser.add_argument("--lag", type=int, default=defaults.lag)
        parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
        parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument(
        "--units", type=int, nargs="+", default=list(defaults.units), help="LSTM layer sizes"
    )
    parser.add_argument("--dense-units", type=int, default=defaults.dense_units)
    parser.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    parser.add_argument("--train-fraction", type=float, default=defaults.train_fraction)
    parser.add_argument(
        "--target",
        choices=TARGETS,
        default=defaults.target,
        help="level: the tutorial's z-scored prices; change: the next day's log change",
    )
    parser.add_argument(
        "--validation-fraction",
        type=float,
        default=defaults.validation_fraction,
        help="share of windows before the test period kept aside for tuning (0 = none)",
    )
    parser.add_argument(
        "--patience",
        type=int,
        default=defaults.patience,
        help="early stopping: epochs without a better validation loss (0 = off)",
    )
    parser.add_argument("--csv", type=Path, help="your own price CSV instead of the snapshot")
    parser.add_argument("--json", type=Path, help="write the full result as JSON here")


def build_parser() -> argparse.ArgumentParser:
    """The command line's commands and options."""
    parser = _Parser(prog="python -m lstm_core", description="LSTM Stock Lab command line")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    train = commands.add_parser("train", help="train one model and compare it with persistence")
    add_train_options(train)
    add_scheduler_option(train)
    add_sweep_command(commands)
    add_forecast_command(commands)
    add_backtest_command(commands)
    add_tune_command(commands)
    return parser


def add_scheduler_option(parser: argparse.ArgumentParser) -> None:
    """`--scheduler tcp://HOST:PORT`: train on that Dask cluster (default $LSTM_LAB_DASK)."""
    parser.add_argument(
        "--scheduler",
        help="train on this Dask scheduler's workers, tcp://HOST:PORT (default: $LSTM_LAB_DASK; "
        "unset: in this process)",
    )


def add_sweep_command(commands: argparse._SubParsersAction) -> None:
    """`sweep`: every lag x batch size (x seed), each against persistence."""
    sweep = commands.add_parser(
        "sweep", help="train every lag x batch size (x seed) and compare each with persistence"
    )
    add_train_options(sweep, single_run=False)
    add_scheduler_option(sweep)
    sweep.add_argument("--lags", type=int, nargs="+", required=True)
    sweep.add_argument("--batch-sizes", type=int, nargs="+", required=True)
    sweep.add_argument("--seeds", type=int, nargs="+", default=[TrainConfig().seed])


def add_horizon_option(parser: argparse.ArgumentParser) -> None:
    """`--horizon H`: how many trading days ahead to forecast."""
    parser.add_argument(
        "--horizon", type=int, default=DEFAULT_HORIZON, help="trading days ahead (1-30)"
    )


def add_forecast_command(commands: argparse._SubParsersAction) -> None:
    """`forecast`: train, then forecast past the last date with measured bands."""
    forecast = commands.add_parser(
        "forecast", help="train, then forecast the next trading days with calibrated bands"
    )
    add_train_options(forecast)
    add_horizon_option(forecast)


def add_backtest_command(commands: argparse._SubParsersAction) -> None:
    """`backtest`: walk-forward folds over the last 40% of the history."""
    backtest = commands.add_parser(
        "backtest", help="walk-forward backtest: retrain before each of K origins"
    )
    add_train_options(backtest)
    backtest.add_argument(
        "--folds", type=int, default=DEFAULT_FOLDS, help="folds over the last 40%% (2-10)"
    )
    add_horizon_option(backtest)


def add_tune_command(commands: argparse._SubParsersAction) -> None:
    """`tune`: an Optuna study over the settings, scored on the validation period."""
    from lstm_core.experiments.tuning import DEFAULT_BASE, SETTINGS

    tune = commands.add_parser(
        "tune",
        help="search settings with Optuna on the validation period; judge the best once on test",
    )
    add_train_options(tune, defaults=DEFAULT_BASE)
    tune.add_argument("--trials", type=int, required=True, help="how many trials to run")
    tune.add_argument(
        "--timeout", type=float, help="time budget in seconds: no trial starts after it"
    )
    tune.add_argument(
        "--search",
        default="lag,batch_size,learning_rate",
        help=f"settings to search, comma-separated, each optionally NAME=LOW:HIGH; "
        f"from {', '.join(SETTINGS)}",
    )
    tune.add_argument(
        "--study", help="study name; an existing study's name continues it (default: a new one)"
    )
    tune.add_argument("--storage", help="SQLAlchemy URL of the study storage")
    tune.add_argument(
        "--no-pruning", action="store_true", help="train every trial to its last epoch"
    )


def format_value(value: float | None, width: int) -> str:
    """A metric right-aligned to 4 decimals, or a dash for a forecaster without that metric."""
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.4f}"


def format_table(result_metrics: dict[str, dict[str, float | None]]) -> str:
    """A small text table of the LSTM's and the baseline's metrics.

    Persistence never predicts a move, so its direction score is a dash (null in the JSON).
    """
    lines = [f"{'metric':<40}{'LSTM':>12}{'persistence':>14}"]
    for name in METRIC_NAMES:
        lines.append(
            f"{METRIC_LABELS[name]:<40}{format_value(result_metrics['lstm'][name], 12)}"
            f"{format_value(result_metrics['persistence'][name], 14)}"
        )
    return "\n".join(lines)


def config_from_arguments(arguments: argparse.Namespace) -> TrainConfig:
    """The training options as a validated config (a sweep's: with the default lag, batch size
    and seed, which it replaces)."""
    values = {
        "ticker": arguments.ticker,
        "epochs": arguments.epochs,
        "units": tuple(arguments.units),
        "dense_units": arguments.dense_units,
        "learning_rate": arguments.learning_rate,
        "train_fraction": arguments.train_fraction,
        "target": arguments.target,
        "validation_fraction": arguments.validation_fraction,
        "patience": arguments.patience,
    }
    for name in ("lag", "batch_size", "seed"):
        if hasattr(arguments, name):
            values[name] = getattr(arguments, name)
    return TrainConfig(**values)


def load_prices(arguments: argparse.Namespace, ticker: str) -> data.PriceData:
    """The prices to train on: `--csv` when given, else the bundled snapshot."""
    if arguments.csv is None:
        return data.load_snapshot()
    try:
        content = arguments.csv.read_bytes()
    except OSError as error:
        raise LabError(f"Cannot read {arguments.csv}: {error.strerror}.") from error
    return data.read_price_csv(content, name=arguments.csv.name, default_ticker=ticker)


def cluster_client(arguments: argparse.Namespace) -> Any:
    """A Dask client for --scheduler (or $LSTM_LAB_DASK), or None to train in this process."""
    from lstm_core.execution import cluster

    address = cluster.scheduler_address(arguments.scheduler)
    return None if address is None else cluster.connect(address)


def write_json(path: Path | None, content: dict) -> None:
    """Write `content` as indented JSON to `path`, when one was given."""
    if path is not None:
        path.write_text(json.dumps(content, indent=2))
        print(f"wrote {path}")


def _train(arguments: argparse.Namespace) -> int:
    config = config_from_arguments(arguments)
    prices = load_prices(arguments, config.ticker)
    series = prices.series(config.ticker)
    client = cluster_client(arguments)
    if client is None:
        # TensorFlow is imported only now, after the cheap checks have passed.
        from lstm_core.model.pipeline import run_training

        result = run_training(config, series)
    else:
        from lstm_core.execution.cluster import ClusterRunner

        print(f"training on the Dask cluster at {client.scheduler.address}")
        try:
            result = ClusterRunner(client, restore_model=False)(config, series)
        finally:
            client.close()
    print(f"{config.label()}: {result.n_train} training and {result.n_test} test windows")
    print(f"data: {prices.description}")
    print(format_table(result.metrics))
    if result.validation is not None:
        print(ratio_verdict(result.validation["comparison"], period="validation"))
    print(ratio_verdict(result.comparison))
    direction = result.comparison["direction_pvalue"]
    print(
        f"direction: the real price rose on {result.comparison['up_share']:.1%} of test days; "
        f"Pesaran-Timmermann {format_pvalue(direction)}"
    )
    note = result.kept_weights_note()
    if note:
        print(note)
    print(f"trained in {result.seconds:.1f} s; final training loss {result.loss_history[-1]:.5f}")
    write_json(arguments.json, result.to_json())
    return 0


def _sweep(arguments: argparse.Namespace) -> int:
    import time

    from lstm_core.experiments import sweeps

    base = config_from_arguments(arguments)
    configs = [
        config
        for seed in sweeps.seed_configs(base, arguments.seeds)
        for config in sweeps.grid_configs(seed, arguments.lags, arguments.batch_sizes)
    ]
    prices = load_prices(arguments, base.ticker)
    series = prices.series(base.ticker)
    for config in configs:
        check_config_fits(len(series), config)
    client = cluster_client(arguments)
    started = time.perf_counter()
    if client is None:
        results = sweeps.run_configs(configs, series)
    else:
        from lstm_core.execution import cluster

        print(f"training {len(configs)} runs on the Dask cluster at {client.scheduler.address}")
        try:
            with cluster.translated_errors(client, "the sweep"):
                results = sweeps.run_configs(configs, series, cluster.cluster_executor(client))
        finally:
            client.close()
    seconds = time.perf_counter() - started
    print(f"data: {prices.description}")
    print(f"{'run':<60}{'test period':>24}{'LSTM RMSE':>12}{'persistence':>14}{'ratio':>8}")
    for result in results:
        lstm, persistence = result.metrics["lstm"]["rmse"], result.metrics["persistence"]["rmse"]
        period = f"{result.test_dates[0]:%Y-%m-%d}..{result.test_dates[-1]:%Y-%m-%d}"
        print(
            f"{result.config.label():<60}{period:>24}{lstm:>12.4f}{persistence:>14.4f}"
            f"{lstm / persistence:>8.3f}"
        )
    print(
        "RMSE in dollars on each run's test period; ratio = LSTM / persistence (tomorrow = "
        f"today), below 1 when the LSTM did better; {len(results)} runs in {seconds:.1f} s"
    )
    runs = [
        {
            "config": result.config.to_dict(),
            "metrics": result.metrics,
            "comparison": result.comparison,
        }
        for result in results
    ]
    write_json(arguments.json, {"runs": runs, "seconds": seconds})
    return 0


def share_text(share: float | None) -> str:
    """A coverage share as '77%', or a dash when nothing could be counted."""
    return "-" if share is None else f"{share:.0%}"


def _forecast(arguments: argparse.Namespace) -> int:
    config = config_from_arguments(arguments)
    series = load_prices(arguments, config.ticker).series(config.ticker)
    horizon = check_horizon(arguments.horizon)
    # Refused before training: bands need a validation period long enough for the horizon.
    check_config_fits(len(series), config)
    check_forecast_fits(len(series), config.lag, config.validation_fraction, horizon)

    from lstm_core.model.pipeline import run_training

    result = run_training(config, series)
    ahead = look_ahead(result.model, result.prepared, horizon)
    print(f"{config.label()}: forecast {horizon} trading days after {series.index[-1]:%Y-%m-%d}")
    print(ratio_verdict(result.comparison))
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
    print("dates are business days; holidays are not known")
    write_json(arguments.json, {**result.to_json(), **ahead.to_json()})
    return 0


def _backtest(arguments: argparse.Namespace) -> int:
    config = config_from_arguments(arguments)
    series = load_prices(arguments, config.ticker).series(config.ticker)
    horizon = check_horizon(arguments.horizon)
    plans = plan_folds(config, len(series), arguments.folds)
    print(f"{config.label()}: walk-forward backtest, {len(plans)} folds, {horizon} days ahead")
    outcome = run_backtest(config, series, folds=len(plans), horizon=horizon)
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


def _print_trial(row: dict[str, Any]) -> None:
    value = "-" if row["value"] is None else f"{row['value']:.4f}"
    print(
        f"trial {row['number']:>3} {row['state']:<8} validation ratio {value:>7} "
        f"after {row['epochs_run']} epoch(s)  {row['params']}",
        flush=True,
    )


def _tune(arguments: argparse.Namespace) -> int:
    from lstm_core.experiments import tuning
    from lstm_core.experiments.store import RunStore

    tuning.check_study_request(arguments.trials, arguments.timeout)
    space = tuning.SearchSpace.parse(arguments.search)
    base = config_from_arguments(arguments)
    tuning.check_base(base)
    store = RunStore()
    storage_url = arguments.storage or tuning.study_storage_url(store)
    name = arguments.study or tuning.new_study_name(base.ticker, tuning.study_names(storage_url))
    plan = tuning.StudyPlan(
        base=base, space=space, seed=arguments.seed, pruning=not arguments.no_pruning
    )
    stored = tuning.stored_study(name, storage_url)
    if stored is not None:
        plan = tuning.StudyPlan.from_attrs(stored.user_attrs, name)
        print(f"continuing study {name!r} ({len(stored.trials)} trials so far)")
    series = load_prices(arguments, plan.base.ticker).series(plan.base.ticker)
    check_config_fits(len(series), plan.base)
    study, plan = tuning.create_or_load_study(
        name, storage_url, plan, data.series_fingerprint(series)
    )
    print(f"study {name!r} on {plan.base.ticker}, searching {', '.join(plan.space.names())}")
    started = time.perf_counter()
    tuning.optimize(
        study,
        plan,
        series,
        arguments.trials,
        timeout=arguments.timeout,
        store=store,
        on_trial_end=_print_trial,
    )
    report = tuning.study_report(study, store, time.perf_counter() - started)
    best = report["best"]
    if best is None:
        print("no trial completed, so there is no best trial and no test figure")
    else:
        print(
            f"best: trial {best['number']}, validation ratio {best['value']:.4f}, {best['params']}"
        )
        if best["test"] is not None:
            print(
                "the study's only test figure: "
                + ratio_verdict(best["test"]["comparison"], period="held-out test")
            )
    print(f"{report['seconds']:.1f} s")
    write_json(arguments.json, report)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (2 with one `error:` line for bad input)."""
    arguments = build_parser().parse_args(argv)
    commands = {
        "train": _train,
        "sweep": _sweep,
        "forecast": _forecast,
        "backtest": _backtest,
        "tune": _tune,
    }
    try:
        return commands[arguments.command](arguments)
    except (LabError, ValueError) as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
