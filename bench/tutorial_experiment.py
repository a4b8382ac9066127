"""The tutorial's experiment done properly: model 1 (batch 200) vs model 2 (batch 1), N seeds each.

Prints each run, the mean and spread of the test RMSE per config, the persistence baseline, and
the same one-sentence verdict the Compare page shows.

    .venv/bin/python bench/tutorial_experiment.py [--seeds 42 7 2024] [--ticker MSFT]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lstm_core import data
from lstm_core.config import TUTORIAL_MODEL_1, TUTORIAL_MODEL_2
from lstm_core.experiments.sweeps import difference_verdict, seed_configs, spread_table
from lstm_core.model.pipeline import run_training


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 7, 2024])
    parser.add_argument("--ticker", default="MSFT")
    parser.add_argument("--epochs", type=int, default=10)
    arguments = parser.parse_args()
    series = data.load_snapshot().series(arguments.ticker)
    groups = {}
    for name, base in (("batch 200", TUTORIAL_MODEL_1), ("batch 1", TUTORIAL_MODEL_2)):
        base = base.with_changes(ticker=arguments.ticker, epochs=arguments.epochs)
        groups[name] = []
        for config in seed_configs(base, arguments.seeds):
            started = time.perf_counter()
            result = run_training(config, series)
            lstm, naive = result.metrics["lstm"], result.metrics["persistence"]
            print(
                f"{name:>9} seed {config.seed:>5}: LSTM RMSE ${lstm['rmse']:7.2f}  "
                f"MSE(std) {lstm['mse_scaled']:.4f}  baseline ${naive['rmse']:.2f}  "
                f"{time.perf_counter() - started:6.1f} s",
                flush=True,
            )
            groups[name].append(result)
    for name, results in groups.items():
        table = spread_table(results)
        row = table[(table["forecast"] == "LSTM") & (table["metric"] == "rmse")].iloc[0]
        print(f"{name}: mean RMSE ${row['mean']:.2f}, std ${row['std']:.2f}, {row['runs']} seeds")
    first, second = groups.values()
    print(f"baseline (tomorrow = today): ${first[0].metrics['persistence']['rmse']:.2f}")
    print(difference_verdict(first, second, ("batch 200", "batch 1")))


if __name__ == "__main__":
    main()
