"""How soon training ends after a Stop request, for the tutorial's model at several batch sizes.

Each run trains the tutorial model on MSFT through the app's code path (`run_training` with a
`should_stop` check, as the background job calls it) and asks it to stop after `--after`
seconds. Prints the time from the request until `run_training` returns: the last group of
steps, then the test predictions of the model as trained so far.

    .venv/bin/python bench/bench_stop.py [--after 6] [--batch-sizes 1 32 64 200]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lstm_core import data
from lstm_core.config import TrainConfig
from lstm_core.model.pipeline import run_training


def stop_latency(series, batch_size: int, after: float) -> tuple[float, int]:
    """Seconds from the stop request to the result, and the full epochs done by then."""
    requested: list[float] = []
    timer = threading.Timer(after, lambda: requested.append(time.perf_counter()))
    timer.start()
    result = run_training(
        TrainConfig(batch_size=batch_size, epochs=1000), series, should_stop=lambda: bool(requested)
    )
    if not result.stopped:
        raise RuntimeError(f"batch {batch_size}: training ended before the stop request")
    return time.perf_counter() - requested[0], result.epochs_completed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--after", type=float, default=6.0)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 32, 64, 200])
    arguments = parser.parse_args()
    series = data.load_snapshot().series("MSFT")
    latencies = []
    for batch_size in arguments.batch_sizes:
        seconds, epochs = stop_latency(series, batch_size, arguments.after)
        latencies.append(seconds)
        print(f"batch {batch_size:>3}: result {seconds:.2f} s after Stop ({epochs} full epochs)")
    print(f"summary: slowest stop {max(latencies):.2f} s, fastest {min(latencies):.2f} s")


if __name__ == "__main__":
    main()
