"""The look-ahead bands' coverage on the held-out test period, now and (optionally) before.

Trains a preset through the app's `run_training` on one snapshot ticker for each seed, then
applies the look-ahead bands (`lstm_core.forecasting.forecast.look_ahead`, the app's adaptive
bands) from every test origin and prints the share of real prices inside them at 1, 5 and 10
days, at 80% and 95%, beside the random walk's band, with the validation days the bands were
calibrated on. The test period is only measured here: nothing is chosen on it.

With `--before DIR` the same measurement also runs on the code checked out in DIR (e.g. the
main branch, whose bands were calibrated on the very validation days early stopping watched),
in a subprocess, and both are printed.

    .venv/bin/python bench/bench_bands.py [--ticker MSFT] [--preset recommended]
        [--seeds 42 7 2024] [--before /path/to/main] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = Path(__file__).resolve().parent.parent
CODE = Path(os.environ.get("BENCH_BANDS_CODE", HERE))
"""Whose lstm_core is measured: this checkout, or the --before one in the subprocess."""
sys.path.insert(0, str(CODE))

STEPS = (1, 5, 10)


def measure(ticker: str, preset: str, seeds: list[int]) -> dict:
    """Coverage of the adaptive bands (and the random walk's) per seed, level and step."""
    from lstm_core import data
    from lstm_core.config import QUICK_DEMO, RECOMMENDED, TUTORIAL_MODEL_1
    from lstm_core.forecasting.forecast import LEVELS, look_ahead
    from lstm_core.model.pipeline import run_training

    presets = {"recommended": RECOMMENDED, "tutorial1": TUTORIAL_MODEL_1, "quick": QUICK_DEMO}
    series = data.load_snapshot().series(ticker)
    report = {}
    for seed in seeds:
        config = presets[preset].with_changes(ticker=ticker, seed=seed)
        run = run_training(config, series)
        ahead = look_ahead(run.model, run.prepared, max(STEPS))
        written = ahead.to_json()
        report[str(seed)] = {
            "label": config.label(),
            "test_origins": ahead.test_origins,
            "best_epoch": run.best_epoch,
            "test_ratio": run.comparison["rmse_ratio"],
            "calibration": written.get("calibration"),
            "validation_days": run.prepared.validation_count,
            "bands_note": ahead.bands_note,
            "coverage": {
                f"{level:.0%}": {
                    str(step): (ahead.coverage or {}).get(level, {}).get(step) for step in STEPS
                }
                for level in LEVELS
            },
            "random_walk": {
                f"{level:.0%}": {
                    str(step): ahead.persistence_coverage[level].get(step) for step in STEPS
                }
                for level in LEVELS
            },
        }
    return report


def share(value: float | None) -> str:
    return "  -  " if value is None else f"{value:5.1%}"


def show(name: str, report: dict) -> None:
    """One block per side: each seed's coverage, then the mean over seeds."""
    print(f"{name}:")
    for seed, entry in report.items():
        calibration = entry["calibration"]
        where = (
            f"calibrated on {calibration['origins']} of {entry['validation_days']} validation "
            f"days, {calibration['first']}..{calibration['last']}"
            if calibration
            else f"validation {entry['validation_days']} days (all calibrate)"
        )
        print(
            f"  seed {seed}: kept epoch {entry['best_epoch']}, test ratio "
            f"{entry['test_ratio']:.3f}, {entry['test_origins']} test origins; {where}"
        )
        if entry["bands_note"]:
            print(f"    no bands: {entry['bands_note']}")
        for level, steps in entry["coverage"].items():
            walk = entry["random_walk"][level]
            print(
                f"    {level} band: "
                + ", ".join(
                    f"{step} d {share(steps[step])} [walk {share(walk[step])}]" for step in steps
                )
            )
    for level in next(iter(report.values()))["coverage"]:
        means = []
        for step in map(str, STEPS):
            values = [entry["coverage"][level][step] for entry in report.values()]
            means.append(
                f"{step} d {statistics.mean(values):5.1%}" if None not in values else f"{step} d -"
            )
        print(f"  mean over {len(report)} seed(s), {level} band: " + ", ".join(means))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ticker", default="MSFT")
    parser.add_argument("--preset", default="recommended")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 7, 2024])
    parser.add_argument("--before", type=Path, help="another checkout to measure the same way")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--print-json", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()

    if arguments.print_json:
        print(json.dumps(measure(arguments.ticker, arguments.preset, arguments.seeds)))
        return
    sides = {}
    if arguments.before:
        command = [
            sys.executable,
            __file__,
            "--print-json",
            "--ticker",
            arguments.ticker,
            "--preset",
            arguments.preset,
            "--seeds",
            *map(str, arguments.seeds),
        ]
        environment = {**os.environ, "BENCH_BANDS_CODE": str(arguments.before.resolve())}
        done = subprocess.run(
            command, env=environment, capture_output=True, text=True, check=True, timeout=1800
        )
        sides[f"before ({arguments.before})"] = json.loads(done.stdout.splitlines()[-1])
    sides[f"now ({CODE})"] = measure(arguments.ticker, arguments.preset, arguments.seeds)
    print(f"{arguments.ticker}, {arguments.preset}: coverage on the held-out test period")
    for name, report in sides.items():
        show(name, report)
    if arguments.json:
        arguments.json.write_text(json.dumps(sides, indent=2))


if __name__ == "__main__":
    main()
