"""Make the reference runs the Lesson page and the Train page's presets show at once.

Trains every run in lstm_core.experiments.reference.REFERENCE_CONFIGS on the bundled snapshot's
MSFT prices with the app's own code and each config's fixed seed, and writes data/reference/.
Run it again whenever training, evaluation or the split changes; the same code gives the same
files (apart from each run's "seconds"). Prints each run, the bundle's size and the total time.

    .venv/bin/python bench/make_reference_runs.py [--only quick_demo ...] [--out FOLDER]
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
from lstm_core.experiments.reference import (
    GATES_RUN,
    REFERENCE_CONFIGS,
    REFERENCE_DIR,
    make_record,
    write_record,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="+", choices=list(REFERENCE_CONFIGS))
    parser.add_argument("--out", type=Path, default=REFERENCE_DIR)
    arguments = parser.parse_args()
    names = arguments.only or list(REFERENCE_CONFIGS)
    started = time.perf_counter()
    snapshot = data.load_snapshot()
    for name in names:
        config = REFERENCE_CONFIGS[name]
        run_started = time.perf_counter()
        record, arrays = make_record(
            name, snapshot.series(config.ticker), with_gates=name == GATES_RUN
        )
        written = write_record(name, record, arrays, arguments.out)
        ratio = record["comparison"]["rmse_ratio"]
        print(
            f"{name}: {config.label()}: test RMSE ratio {ratio:.3f}, "
            f"{time.perf_counter() - run_started:.1f} s, "
            f"{sum(path.stat().st_size for path in written) / 1024:.0f} KB",
            flush=True,
        )
    bundle = sum(path.stat().st_size for path in arguments.out.iterdir() if path.is_file())
    print(f"Bundle in {arguments.out}: {bundle / 1024 / 1024:.2f} MB")
    print(f"Made {len(names)} reference runs in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
