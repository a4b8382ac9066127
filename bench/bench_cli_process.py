"""The command line's `train` against a plain Keras script, each timed as a whole process.

What a person waits for at the shell: Python's start, every import, loading the prices,
training and scoring. Both sides train the tutorial's model (LSTM 128 -> 64 -> Dense 25 -> 1,
lag 60, levels scaled on the training part, seed 42) on the snapshot's MSFT prices; the plain
script scores the test period with the RMSE of the model and of persistence, the CLI adds its
metrics table and significance tests (statsmodels). Runs alternate between the two sides and
the median of each is kept. Prints a table and, last, the ratios (CLI / plain; goal <= 1.0).
On a shared machine the wall times move with the others' load, so the table also gives the
spread of each round's ratio (the sides of a round ran back to back) and the ratio of CPU
seconds (user + system), which load moves less.

    .venv/bin/python bench/bench_cli_process.py [--repeats 3] [--cases 200x10 1x2] [--before DIR]

`--before DIR` also times the CLI of another checkout (say `git worktree add DIR COMMIT`), in
the same rounds, so a change is measured against its predecessor under the same load.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "data" / "prices_2015-04-01_2021-03-31.csv"

PLAIN_SCRIPT = """
import sys

import keras
import numpy as np
import pandas as pd

snapshot, batch_size, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
lag = 60
frame = pd.read_csv(snapshot, parse_dates=["Date"])
prices = frame.loc[frame["Ticker"] == "MSFT", "Adj Close"].to_numpy(dtype=np.float64)
windows = np.lib.stride_tricks.sliding_window_view(prices[:-1], lag)
targets = prices[lag:]
train = int(0.8 * len(targets))
mean, std = prices[: train + lag].mean(), prices[: train + lag].std()
x = ((windows - mean) / std)[:, :, None].astype("float32")
y = ((targets - mean) / std).astype("float32")
keras.utils.set_random_seed(42)
model = keras.Sequential(
    [
        keras.Input((lag, 1)),
        keras.layers.LSTM(128, return_sequences=True),
        keras.layers.LSTM(64),
        keras.layers.Dense(25),
        keras.layers.Dense(1),
    ]
)
model.compile(optimizer="adam", loss="mse")
model.fit(x[:train], y[:train], batch_size=batch_size, epochs=epochs, shuffle=True, verbose=0)
predicted = model.predict(x[train:], batch_size=1024, verbose=0).reshape(-1) * std + mean
actual, yesterday = targets[train:], windows[train:, -1]
print(f"test RMSE {np.sqrt(np.mean((predicted - actual) ** 2)):.2f}, "
      f"persistence {np.sqrt(np.mean((yesterday - actual) ** 2)):.2f}")
"""


def timed(command: list[str], folder: Path = ROOT) -> tuple[float, float]:
    """Wall and CPU seconds of `command` run in `folder` until its exit; a failure stops the
    bench."""
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.run(command, capture_output=True, text=True, cwd=folder, env=environment)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{process.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu


def spread(values: list[float]) -> str:
    """The range of `values` as 'low-high'."""
    return f"{min(values):.2f}-{max(values):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cases", nargs="+", default=["200x10", "1x2"], help="BATCHxEPOCHS")
    parser.add_argument("--before", type=Path, help="another checkout whose CLI to time too")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        plain_path = Path(folder) / "plain_keras.py"
        plain_path.write_text(PLAIN_SCRIPT)
        before = "" if arguments.before is None else f" {'before s':>8} {'ratio':>6}"
        print(
            f"{'batch':>5} {'epochs':>6} {'plain s':>8} {'CLI s':>8} {'ratio':>6}{before}"
            f"  {'round ratios':>12} {'CPU ratio':>9}  (medians of {arguments.repeats})"
        )
        ratios = {}
        for case in arguments.cases:
            batch_size, epochs = (int(part) for part in case.split("x"))
            plain = [sys.executable, str(plain_path), str(SNAPSHOT), str(batch_size), str(epochs)]
            cli = [sys.executable, "-m", "lstm_core", "train", "--batch-size", str(batch_size)]
            cli += ["--epochs", str(epochs), "--lag", "60", "--seed", "42"]
            sides = {"plain": (plain, ROOT), "CLI": (cli, ROOT)}
            if arguments.before is not None:
                sides["before"] = (cli, arguments.before)
            runs: dict[str, list[float]] = {name: [] for name in sides}
            cpu: dict[str, list[float]] = {name: [] for name in sides}
            for repeat in range(arguments.repeats):
                # Rotating which side goes first spreads any drift in the machine's load.
                names = list(sides)
                for name in names[repeat % len(names) :] + names[: repeat % len(names)]:
                    wall, cpu_seconds = timed(*sides[name])
                    runs[name].append(wall)
                    cpu[name].append(cpu_seconds)
            medians = {name: statistics.median(seconds) for name, seconds in runs.items()}
            ratios[batch_size] = medians["CLI"] / medians["plain"]
            rounds = [cli / plain for cli, plain in zip(runs["CLI"], runs["plain"], strict=True)]
            cpu_ratio = statistics.median(cpu["CLI"]) / statistics.median(cpu["plain"])
            line = (
                f"{batch_size:>5} {epochs:>6} {medians['plain']:>8.2f} {medians['CLI']:>8.2f} "
                f"{ratios[batch_size]:>6.2f}"
            )
            if "before" in medians:
                line += f" {medians['before']:>8.2f} {medians['before'] / medians['plain']:>6.2f}"
            line += f"  {spread(rounds):>12} {cpu_ratio:>9.2f}"
            if "before" in medians:
                before_rounds = [b / p for b, p in zip(runs["before"], runs["plain"], strict=True)]
                before_cpu = statistics.median(cpu["before"]) / statistics.median(cpu["plain"])
                line += f"  before: rounds {spread(before_rounds)}, CPU {before_cpu:.2f}"
            print(line, flush=True)
    print("ratios (CLI/plain): " + ", ".join(f"batch {b}: {r:.2f}" for b, r in ratios.items()))


if __name__ == "__main__":
    main()
