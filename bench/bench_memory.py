"""Resident memory over 20 trainings in a row in one process, as a long-running app sees them.

Each run trains the tutorial model (batch 200, 1 epoch) on MSFT through the app's code path and
is then dropped (`--keep` keeps every result, models included, as one session would). Prints the
resident memory after each run and, last, the growth from after run 1 to after run 20.

`--trim` asks glibc to hand freed heap back to the system (malloc_trim) before each reading:
what then remains is memory really held, not memory freed but kept by the allocator. (Measured
here: without it the second run adds about 90 MB that stays flat afterwards; with it the
readings stay within a few MB of the first, so that step is allocator retention, not a leak.)

    .venv/bin/python bench/bench_memory.py [--runs 20] [--keep] [--trim]
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lstm_core import data
from lstm_core.config import TrainConfig
from lstm_core.model.pipeline import run_training


def resident_megabytes() -> float:
    """VmRSS of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def release_freed_heap() -> None:
    """glibc's malloc_trim(0): return freed heap pages to the system (Linux only)."""
    ctypes.CDLL("libc.so.6").malloc_trim(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep every result, as a session does")
    parser.add_argument(
        "--trim", action="store_true", help="malloc_trim before each reading (see above)"
    )
    arguments = parser.parse_args()
    series = data.load_snapshot().series("MSFT")
    kept = []
    readings: list[float] = []
    for index in range(arguments.runs):
        result = run_training(TrainConfig(batch_size=200, epochs=1, seed=index), series)
        if arguments.keep:
            kept.append(result)
        del result
        if arguments.trim:
            release_freed_heap()
        memory = resident_megabytes()
        readings.append(memory)
        print(f"after run {index + 1:>2}: {memory:7.0f} MB", flush=True)
    if len(readings) > 2:
        print(
            f"(from after run 2 to after run {arguments.runs}: {readings[-1] - readings[1]:.0f} MB)"
        )
    growth = readings[-1] - readings[0]
    modes = [
        name
        for name, on in (("results kept", arguments.keep), ("malloc_trim", arguments.trim))
        if on
    ]
    suffix = f" ({', '.join(modes)})" if modes else ""
    print(f"memory growth over {arguments.runs} trainings: {growth:.0f} MB{suffix}")


if __name__ == "__main__":
    main()
