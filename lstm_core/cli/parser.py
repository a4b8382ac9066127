"""The command line: its commands, and main, which runs one and returns the exit status."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from lstm_core.cli.forecasting import (
    add_backtest_command,
    add_forecast_command,
    backtest_command,
    forecast_command,
)
from lstm_core.cli.lineup import add_lineup_command, lineup_command
from lstm_core.cli.options import (
    Parser,
    add_inputs_option,
    add_scheduler_option,
    add_train_options,
)
from lstm_core.cli.room import add_room_command, room_command
from lstm_core.cli.training import add_sweep_command, sweep_command, train_command
from lstm_core.cli.tuning import add_tune_command, tune_command
from lstm_core.errors import LabError


def build_parser() -> argparse.ArgumentParser:
    """The command line's commands and options."""
    parser = Parser(prog="python -m lstm_core", description="LSTM Stock Lab command line")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    train = commands.add_parser("train", help="train one model and compare it with persistence")
    add_train_options(train)
    add_inputs_option(train)
    train.add_argument(
        "--shuffled-control",
        action="store_true",
        help="also train the same settings and seed once per extra input with that input's "
        "training days shuffled, and say on the validation period whether the input beat it",
    )
    add_scheduler_option(train)
    add_sweep_command(commands)
    add_forecast_command(commands)
    add_backtest_command(commands)
    add_tune_command(commands)
    add_room_command(commands)
    add_lineup_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (2 with one `error:` line for bad input)."""
    arguments = build_parser().parse_args(argv)
    commands = {
        "train": train_command,
        "sweep": sweep_command,
        "forecast": forecast_command,
        "backtest": backtest_command,
        "tune": tune_command,
        "room": room_command,
        "lineup": lineup_command,
    }
    try:
        return commands[arguments.command](arguments)
    except (LabError, ValueError) as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
