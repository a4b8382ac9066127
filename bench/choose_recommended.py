"""Choose the Recommended preset's batch size and epochs on the validation period only.

Every candidate learns daily changes with the tutorial's layers, lag 60, validation 0.1 and
patience 3; the one with the lowest mean validation RMSE ratio to persistence over the four
snapshot tickers wins. No test figure is read here, so the held-out test stays held out.

    .venv/bin/python bench/choose_recommended.py [--seed 42]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from lstm_core import data
from lstm_core.config import RECOMMENDED
from lstm_core.model.pipeline import run_training

TICKERS = ("AAPL", "GOOG", "MSFT", "AMZN")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 64, 200])
    parser.add_argument("--epochs", type=int, nargs="+", default=[10, 20])
    arguments = parser.parse_args()
    prices = data.load_snapshot()
    scores = {}
    for batch_size, epochs in itertools.product(arguments.batch_sizes, arguments.epochs):
        ratios = []
        for ticker in TICKERS:
            config = RECOMMENDED.with_changes(
                ticker=ticker, batch_size=batch_size, epochs=epochs, seed=arguments.seed
            )
            started = time.perf_counter()
            result = run_training(config, prices.series(ticker))
            ratio = result.validation["comparison"]["rmse_ratio"]
            ratios.append(ratio)
            print(
                f"batch {batch_size:>3} epochs {epochs:>2} {ticker}: validation ratio "
                f"{ratio:.4f}, kept epoch {result.best_epoch} of {result.epochs_completed} "
                f"({time.perf_counter() - started:.1f} s)",
                flush=True,
            )
        scores[(batch_size, epochs)] = float(np.mean(ratios))
    print("\nmean validation RMSE ratio to persistence over AAPL, GOOG, MSFT, AMZN:")
    for (batch_size, epochs), score in sorted(scores.items(), key=lambda item: item[1]):
        print(f"  batch {batch_size:>3}, up to {epochs:>2} epochs: {score:.4f}")
    best = min(scores, key=scores.get)
    print(f"chosen: batch {best[0]}, up to {best[1]} epochs")


if __name__ == "__main__":
    main()
