"""What the commands share: the parser class, training options, loading prices, tables and JSON."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lstm_core import json_text
from lstm_core.config import (
    INPUT_SENTENCES,
    MODEL_NAMES,
    MODELS,
    TARGETS,
    TrainConfig,
    parse_inputs,
)
from lstm_core.errors import LabError
from lstm_core.evaluation.metrics import METRIC_LABELS, METRIC_NAMES

if TYPE_CHECKING:
    from lstm_core import data


class Parser(argparse.ArgumentParser):
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
    if single_run:
        parser.add_argument(
            "--model",
            choices=MODELS,
            default=defaults.model,
            help="lstm: the tutorial's stack; gru or simple_rnn: the same stack with those "
            "layers; linear: a ridge regression on the same windows",
        )
    parser.add_argument("--csv", type=Path, help="your own price CSV instead of the snapshot")
    parser.add_argument("--json", type=Path, help="write the full result as JSON here")


def add_inputs_option(parser: argparse.ArgumentParser, several: bool = False) -> None:
    """`--inputs close,volume,range,market`: what the network sees each day (with `several`,
    one or more such sets, each a row of the lineup)."""
    sentences = " ".join(INPUT_SENTENCES.values())
    if several:
        parser.add_argument(
            "--inputs",
            nargs="+",
            default=["close"],
            metavar="SET",
            help="one or more comma-separated input sets, such as close close,volume,range,"
            f"market; each set is trained as every model kind. {sentences}",
        )
        return
    parser.add_argument(
        "--inputs",
        default="close",
        help=f"comma-separated inputs, such as close,volume,range,market. {sentences}",
    )


def add_scheduler_option(parser: argparse.ArgumentParser) -> None:
    """`--scheduler tcp://HOST:PORT`: train on that Dask cluster (default $LSTM_LAB_DASK)."""
    parser.add_argument(
        "--scheduler",
        help="train on this Dask scheduler's workers, tcp://HOST:PORT (default: $LSTM_LAB_DASK; "
        "unset: in this process)",
    )


def format_value(value: float | None, width: int) -> str:
    """A metric right-aligned to 4 decimals, or a dash for a forecaster without that metric."""
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.4f}"


def format_table(result_metrics: dict[str, dict[str, float | None]], model: str = "lstm") -> str:
    """A small text table of the LSTM's and the baseline's metrics.

    Persistence never predicts a move, so its direction score is a dash (null in the JSON).
    """
    width = max(12, len(MODEL_NAMES[model]) + 2)
    lines = [f"{'metric':<40}{MODEL_NAMES[model]:>{width}}{'persistence':>14}"]
    for name in METRIC_NAMES:
        lines.append(
            f"{METRIC_LABELS[name]:<40}{format_value(result_metrics['lstm'][name], width)}"
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
    for name in ("lag", "batch_size", "seed", "model"):
        if hasattr(arguments, name):
            values[name] = getattr(arguments, name)
    if isinstance(getattr(arguments, "inputs", None), str):
        values["inputs"] = parse_inputs(arguments.inputs)
    return TrainConfig(**values)


def load_prices(arguments: argparse.Namespace, ticker: str) -> data.PriceData:
    """The prices to train on: `--csv` when given, else the bundled snapshot."""
    from lstm_core import data

    if arguments.csv is None:
        return data.load_snapshot()
    # The page's reader, given the path: it checks the size before reading a byte.
    return data.read_price_csv(arguments.csv, name=arguments.csv.name, default_ticker=ticker)


def cluster_client(arguments: argparse.Namespace) -> Any:
    """A Dask client for --scheduler (or $LSTM_LAB_DASK), or None to train in this process."""
    from lstm_core.execution import cluster

    address = cluster.scheduler_address(arguments.scheduler)
    if address is None:
        return None
    client = cluster.connect(address)
    try:
        cluster.wait_for_workers(client, address)
    except cluster.ClusterError:
        client.close()
        raise
    return client


@contextlib.contextmanager
def cluster_runner(arguments: argparse.Namespace, restore_model: bool) -> Iterator[Any]:
    """A runner that trains on --scheduler's workers (closed afterwards), or None to train here.

    `restore_model` loads each returned model here, for commands that forecast with it.
    """
    client = cluster_client(arguments)
    if client is None:
        yield None
        return
    from lstm_core.execution.cluster import ClusterRunner

    print(f"training on the Dask cluster at {client.scheduler.address}")
    try:
        yield ClusterRunner(client, restore_model=restore_model)
    finally:
        client.close()


def check_json_folder(path: Path | None) -> None:
    """LabError, before any training, when --json names a file in a folder that is not there."""
    if path is not None and not path.parent.is_dir():
        raise LabError(
            f"The folder {path.parent} for --json does not exist; create it or choose another path."
        )


def write_json(path: Path | None, content: dict) -> None:
    """Write `content` as indented, strict JSON to `path`, when one was given."""
    if path is not None:
        try:
            path.write_text(json_text.dumps(content, indent=2))
        except OSError as error:
            raise LabError(f"Cannot write {path}: {error.strerror}.") from error
        print(f"wrote {path}")
