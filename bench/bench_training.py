"""Live training in the app's code path against plain `model.fit(verbose=0)`, interleaved.

For each batch size both sides build the same model with the same seed on the same MSFT windows
and train the same epochs; "ours" is `lstm_core.model.training.train_model` with a progress
hook that
does what the app's job does (keep the latest progress for the page to draw). Prints a table and,
as its last line, the median time ratios (ours / plain).

    .venv/bin/python bench/bench_training.py [--repeats 3] [--batch-sizes 200 32 1]
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
import numpy as np
import pandas as pd

from lstm_core.config import TrainConfig
from lstm_core.model.network import build_model
from lstm_core.model.training import train_model
from lstm_core.preprocessing import PreparedData, prepare

SNAPSHOT = Path(__file__).resolve().parent.parent / "data" / "prices_2015-04-01_2021-03-31.csv"
EPOCHS = {200: 10, 32: 10, 1: 2}


def msft_series() -> pd.Series:
    frame = pd.read_csv(SNAPSHOT, parse_dates=["Date"])
    msft = frame[frame["Ticker"] == "MSFT"]
    return pd.Series(msft["Adj Close"].to_numpy(), index=msft["Date"], name="MSFT")


def test_rmse(model: keras.Model, prepared: PreparedData) -> float:
    scaled = model.predict(prepared.x_test, batch_size=1024, verbose=0).reshape(-1)
    predicted = prepared.scaler.inverse(scaled)
    return float(np.sqrt(np.mean((predicted - prepared.test_actual) ** 2)))


def plain_fit(config: TrainConfig, prepared: PreparedData) -> tuple[float, float, float]:
    keras.backend.clear_session()
    keras.utils.set_random_seed(config.seed)
    started = time.perf_counter()
    model = build_model(config)
    history = model.fit(
        prepared.x_train,
        prepared.y_train,
        batch_size=config.batch_size,
        epochs=config.epochs,
        shuffle=True,
        verbose=0,
    )
    seconds = time.perf_counter() - started
    return seconds, float(history.history["loss"][-1]), test_rmse(model, prepared)


def our_fit(config: TrainConfig, prepared: PreparedData) -> tuple[float, float, float]:
    latest = {}

    def hook(progress: object) -> None:
        # What the app's job does on each report: keep it for the page's next redraw.
        latest["progress"] = progress

    started = time.perf_counter()
    outcome = train_model(config, prepared, progress=hook, should_stop=lambda: False)
    seconds = time.perf_counter() - started
    return seconds, outcome.loss_history[-1], test_rmse(outcome.model, prepared)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[200, 32, 1])
    arguments = parser.parse_args()
    series = msft_series()
    prepared = prepare(series, 60, 0.8)
    print(f"MSFT, lag 60, {prepared.train_count} training windows, tutorial model, seed 42")
    print(
        f"{'batch':>5} {'epochs':>6} {'plain s':>8} {'ours s':>8} {'ratio':>6} "
        f"{'loss diff %':>11} {'RMSE diff %':>11}"
    )
    ratios = {}
    for batch_size in arguments.batch_sizes:
        config = TrainConfig(batch_size=batch_size, epochs=EPOCHS.get(batch_size, 5))
        plain_runs, our_runs = [], []
        for _ in range(arguments.repeats):
            plain_runs.append(plain_fit(config, prepared))
            our_runs.append(our_fit(config, prepared))
        plain_seconds = statistics.median(run[0] for run in plain_runs)
        our_seconds = statistics.median(run[0] for run in our_runs)
        loss_diff = 100 * (our_runs[0][1] - plain_runs[0][1]) / plain_runs[0][1]
        rmse_diff = 100 * (our_runs[0][2] - plain_runs[0][2]) / plain_runs[0][2]
        ratios[batch_size] = our_seconds / plain_seconds
        print(
            f"{batch_size:>5} {config.epochs:>6} {plain_seconds:>8.2f} {our_seconds:>8.2f} "
            f"{ratios[batch_size]:>6.2f} {loss_diff:>+11.1f} {rmse_diff:>+11.1f}",
            flush=True,
        )
    print("ratios (ours/plain): " + ", ".join(f"batch {b}: {r:.2f}" for b, r in ratios.items()))


if __name__ == "__main__":
    main()
