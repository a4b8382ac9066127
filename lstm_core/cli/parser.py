"""The command line: its commands, and main, which runs one and returns the exit status.

Each command's module is imported only when that command is chosen: parsing `train` loads
neither the tuner's Optuna and SQLAlchemy nor the room's process management nor the backtest,
so what a person waits for is what the command does (bench/bench_cli_process.py).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Collection, Sequence
from types import ModuleType

from lstm_core.cli.options import Parser
from lstm_core.errors import LabError

COMMANDS = {
    "train": ("training", "train one model and compare it with persistence"),
    "sweep": (
        "training",
        "train every lag x batch size (x seed) and compare each with persistence",
    ),
    "forecast": ("forecasting", "train, then forecast the next trading days with calibrated bands"),
    "backtest": ("forecasting", "walk-forward backtest: retrain before each of K origins"),
    "tune": (
        "tuning",
        "search settings with Optuna on the validation period; judge the best once on test",
    ),
    "room": (
        "room",
        "start or stop PostgreSQL, a Dask cluster, N page servers and nginx in front",
    ),
    "lineup": ("lineup", "train the same settings as each model kind and compare them"),
}
"""Each command: the module under lstm_core.cli that defines it, and its one-line help.

That module has `add_<command>_arguments(parser)` and `<command>_command(arguments)`.
"""


def command_module(command: str) -> ModuleType:
    """The module that defines `command`, imported now."""
    return importlib.import_module(f"lstm_core.cli.{COMMANDS[command][0]}")


def build_parser(detailed: Collection[str] | None = None) -> argparse.ArgumentParser:
    """The command line's parser: every command's name and help, and the options of the
    commands in `detailed` (default: all of them, which imports every command's module)."""
    parser = Parser(prog="python -m lstm_core", description="LSTM Stock Lab command line")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for command, (_, help_text) in COMMANDS.items():
        subparser = commands.add_parser(command, help=help_text)
        if detailed is None or command in detailed:
            getattr(command_module(command), f"add_{command}_arguments")(subparser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (2 with one `error:` line for bad input)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # The top level has no options but --help, so a command, when there is one, comes first.
    chosen = argv[:1] if argv and argv[0] in COMMANDS else []
    arguments = build_parser(chosen).parse_args(argv)
    run = getattr(command_module(arguments.command), f"{arguments.command}_command")
    try:
        return run(arguments)
    except (LabError, ValueError) as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
