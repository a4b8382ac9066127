"""`python -m lstm_core train ...`: train on the snapshot or a CSV and print LSTM vs persistence."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from lstm_core.config import TARGETS, TrainConfig
from lstm_core.errors import LabError
from lstm_core.evaluate import METRIC_LABELS, METRIC_NAMES, format_pvalue, ratio_verdict


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad option as one `error:` line with exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"error: {message}\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    """The command line's options, defaults from the tutorial's model 1."""
    defaults = TrainConfig()
    parser = _Parser(prog="python -m lstm_core", description="LSTM Stock Lab command line")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    train = commands.add_parser("train", help="train one model and compare it with persistence")
    train.add_argument("--ticker", default=defaults.ticker)
    train.add_argument("--lag", type=int, default=defaults.lag)
    train.add_argument("--batch-size", type=int, default=defaults.batch_size)
    train.add_argument("--epochs", type=int, default=defaults.epochs)
    train.add_argument(
        "--units", type=int, nargs="+", default=list(defaults.units), help="LSTM layer sizes"
    )
    train.add_argument("--dense-units", type=int, default=defaults.dense_units)
    train.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    train.add_argument("--train-fraction", type=float, default=defaults.train_fraction)
    train.add_argument("--seed", type=int, default=defaults.seed)
    train.add_argument(
        "--target",
        choices=TARGETS,
        default=defaults.target,
        help="level: the tutorial's z-scored prices; change: the next day's log change",
    )
    train.add_argument(
        "--validation-fraction",
        type=float,
        default=defaults.validation_fraction,
        help="share of windows before the test period kept aside for tuning (0 = none)",
    )
    train.add_argument(
        "--patience",
        type=int,
        default=defaults.patience,
        help="early stopping: epochs without a better validation loss (0 = off)",
    )
    train.add_argument("--csv", type=Path, help="your own price CSV instead of the snapshot")
    train.add_argument("--json", type=Path, help="write the full result as JSON here")
    return parser


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


def _train(arguments: argparse.Namespace) -> int:
    from lstm_core import data

    config = TrainConfig(
        ticker=arguments.ticker,
        lag=arguments.lag,
        batch_size=arguments.batch_size,
        epochs=arguments.epochs,
        units=tuple(arguments.units),
        dense_units=arguments.dense_units,
        learning_rate=arguments.learning_rate,
        train_fraction=arguments.train_fraction,
        seed=arguments.seed,
        target=arguments.target,
        validation_fraction=arguments.validation_fraction,
        patience=arguments.patience,
    )
    if arguments.csv is not None:
        try:
            content = arguments.csv.read_bytes()
        except OSError as error:
            raise LabError(f"Cannot read {arguments.csv}: {error.strerror}.") from error
        prices = data.read_price_csv(content, name=arguments.csv.name, default_ticker=config.ticker)
    else:
        prices = data.load_snapshot()
    series = prices.series(config.ticker)

    # TensorFlow is imported only now, after the cheap checks have passed.
    from lstm_core.pipeline import run_training

    result = run_training(config, series)
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
    if arguments.json is not None:
        arguments.json.write_text(json.dumps(result.to_json(), indent=2))
        print(f"wrote {arguments.json}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (2 with one `error:` line for bad input)."""
    arguments = build_parser().parse_args(argv)
    try:
        return _train(arguments)
    except (LabError, ValueError) as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
