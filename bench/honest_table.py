"""The README's honest table: three presets on every snapshot ticker, several seeds each.

For each ticker and preset: the mean and spread of the held-out test RMSE ratio to persistence
(below 1 beats it), the median Diebold-Mariano p-value, the LSTM's direction accuracy beside
the share of up days, and, for presets with one, the validation ratio the preset was tuned on.

    .venv/bin/python bench/honest_table.py [--seeds 42 7 2024] [--presets ...]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from lstm_core import data
from lstm_core.config import PRESETS
from lstm_core.experiments.sweeps import seed_configs
from lstm_core.model.pipeline import run_training

TICKERS = ("AAPL", "GOOG", "MSFT", "AMZN")
DEFAULT_PRESETS = (
    "Tutorial model 1 (batch 200, 10 epochs)",
    "Quick demo",
    "Recommended (learns daily changes)",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 7, 2024])
    parser.add_argument("--presets", nargs="+", default=list(DEFAULT_PRESETS))
    arguments = parser.parse_args()
    prices = data.load_snapshot()
    rows = []
    for ticker in TICKERS:
        series = prices.series(ticker)
        for name in arguments.presets:
            base = PRESETS[name].with_changes(ticker=ticker)
            runs = []
            for config in seed_configs(base, arguments.seeds):
                started = time.perf_counter()
                result = run_training(config, series)
                runs.append(result)
                print(
                    f"{ticker} {name} seed {config.seed}: test ratio "
                    f"{result.comparison['rmse_ratio']:.3f} "
                    f"({time.perf_counter() - started:.1f} s)",
                    flush=True,
                )
            ratios = np.array([run.comparison["rmse_ratio"] for run in runs])
            direction = np.mean([run.metrics["lstm"]["direction_accuracy"] for run in runs])
            validation = [
                run.validation["comparison"]["rmse_ratio"] for run in runs if run.validation
            ]
            rows.append(
                {
                    "ticker": ticker,
                    "preset": name,
                    "ratio": f"{ratios.mean():.3f} ± {ratios.std(ddof=1):.3f}",
                    "validation": f"{np.mean(validation):.3f}" if validation else "-",
                    "dm_p": f"{np.median([run.comparison['dm_pvalue'] for run in runs]):.3g}",
                    "direction": f"{direction:.1f}%",
                    "up_days": f"{100 * runs[0].comparison['up_share']:.1f}%",
                }
            )
    print(
        f"\n| ticker | preset | held-out test RMSE ratio (mean ± sd, {len(arguments.seeds)} seeds) "
        "| validation ratio | median DM p | direction right | up days |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print(
            f"| {row['ticker']} | {row['preset']} | {row['ratio']} | {row['validation']} | "
            f"{row['dm_p']} | {row['direction']} | {row['up_days']} |"
        )


if __name__ == "__main__":
    main()
