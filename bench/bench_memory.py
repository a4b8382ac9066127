"""Resident memory over 20 trainings in a row in one process, as a long-running app sees them.

Each run trains the tutorial model (batch 200, 1 epoch) on MSFT through the app's code path and
is then dropped (`--keep` keeps every result, models included, as one session would). Prints the
resident memory after each run and, last, the growth from after run 1 to after run 20.

    .venv/bin/python bench/bench_memory.py [--runs 20] [--keep]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lstm_core import data
from lstm_core.config import TrainConfig
from lstm_core.pipeline import run_training


def resident_megabytes() -> float:
    """VmRSS of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep every result, as a session does")
    arguments = parser.parse_args()
    series = data.load_snapshot().series("MSFT")
    kept = []
    after_first = 0.0
    for index in range(arguments.runs):
        result = run_training(TrainConfig(batch_size=200, epochs=1, seed=index), series)
        if arguments.keep:
            kept.append(result)
        del result
        memory = resident_megabytes()
        after_first = after_first or memory
        print(f"after run {index + 1:>2}: {memory:7.0f} MB", flush=True)
    growth = resident_megabytes() - after_first
    print(f"memory growth over {arguments.runs} trainings: {growth:.0f} MB")


if __name__ == "__main__":
    main()
