"""What three presets really predict on one ticker: the size of the moves they dare beside the
real ones, how often their signs agree, and where the training loss ends against the no-skill
line (what predicting no change scores). Issue 22's measurement; every figure is a real run.

    .venv/bin/python bench/what_it_predicts.py [--ticker MSFT] [--seed 42]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dataclasses import replace

from lstm_core import data
from lstm_core.config import PRESETS
from lstm_core.evaluation.baselines import no_skill_position
from lstm_core.model.pipeline import run_training

PRESET_NAMES = (
    "Recommended (learns daily changes)",
    "Tutorial model 1 (batch 200, 10 epochs)",
    "Quick demo",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ticker", default="MSFT")
    parser.add_argument("--seed", type=int, default=42)
    arguments = parser.parse_args()
    series = data.load_snapshot().series(arguments.ticker)
    print(
        "| preset | test ratio | move scale | move correlation | direction right | up days "
        "| final training loss | no-skill (training) | position |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    started = time.perf_counter()
    for name in PRESET_NAMES:
        config = replace(PRESETS[name], ticker=arguments.ticker, seed=arguments.seed)
        result = run_training(config, series)
        figures = result.comparison
        final, line = result.loss_history[-1], result.no_skill["training"]
        print(
            f"| {name} | {figures['rmse_ratio']:.3f} | {figures['move_scale']:.3f} | "
            f"{figures['move_correlation']:+.3f} | "
            f"{result.metrics['lstm']['direction_accuracy']:.1f}% | {figures['up_share']:.1%} | "
            f"{final:.4f} | {line:.4f} | {no_skill_position(final, line)} |"
        )
    print(f"\n{arguments.ticker}, seed {arguments.seed}; {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
