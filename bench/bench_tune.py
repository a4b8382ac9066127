"""What pruning saves: the same 20-trial study with MedianPruner and without any pruner.

Both studies search lag, batch size and learning rate for a small model (LSTM 32 -> 16,
Dense 16, 10 epochs, daily changes, validation 10%) on the snapshot's MSFT, with the same
sampler seed. Prints the epochs each trained, their training seconds (the sum over trials of
`fit` time, and the wall time of the whole study), the share pruning saved of each, and both
studies' best validation ratio. Seconds vary with what else the machine runs; epochs do not.
Goal (issue 12): at least 30% saved, best within 2%.

    .venv/bin/python bench/bench_tune.py [--trials 20] [--ticker MSFT]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import optuna

from lstm_core import data
from lstm_core.data import series_fingerprint
from lstm_core.experiments import tuning
from lstm_core.experiments.store import RunStore

SPACE = tuning.SearchSpace.of(
    {"lag": (10, 90), "batch_size": (16, 256), "learning_rate": (0.0003, 0.01)}
)


def run(pruning: bool, trials: int, ticker: str, folder: Path, warmup: int = 0) -> dict:
    """One study; its training seconds, wall time, states and best value."""
    series = data.load_snapshot().series(ticker)
    base = tuning.DEFAULT_BASE.with_changes(
        ticker=ticker, units=(32, 16), dense_units=16, epochs=10
    )
    plan = tuning.StudyPlan(base=base, space=SPACE, seed=42, pruning=pruning)
    store = RunStore(folder / "runs.sqlite")
    name = "pruned" if pruning else "unpruned"
    pruner = optuna.pruners.MedianPruner(n_warmup_steps=warmup) if pruning else None
    study, plan = tuning.create_or_load_study(
        name, tuning.study_storage_url(store), plan, series_fingerprint(series), pruner
    )
    started = time.perf_counter()
    tuning.optimize(study, plan, series, trials, store=store)
    wall = time.perf_counter() - started
    finished = study.get_trials()
    best = tuning.best_trial(study)
    return {
        "train_seconds": sum(trial.user_attrs.get("seconds", 0.0) for trial in finished),
        "wall_seconds": wall,
        "epochs": sum(trial.user_attrs.get("epochs_run", 0) for trial in finished),
        "pruned": sum(trial.state == optuna.trial.TrialState.PRUNED for trial in finished),
        "best_value": best.value,
        "best_params": best.params,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--ticker", default="MSFT")
    parser.add_argument(
        "--warmup-epochs",
        type=int,
        default=0,
        help="the median pruner's n_warmup_steps: no pruning before this epoch (default 0)",
    )
    arguments = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # TensorFlow's import and first tracing would fall on whichever study runs first.
    from lstm_core.model.pipeline import run_training

    warm = tuning.DEFAULT_BASE.with_changes(ticker=arguments.ticker, units=(32, 16), epochs=1)
    run_training(warm, data.load_snapshot().series(arguments.ticker))
    with tempfile.TemporaryDirectory() as folder:
        without = run(False, arguments.trials, arguments.ticker, Path(folder) / "without")
        with_pruning = run(
            True, arguments.trials, arguments.ticker, Path(folder) / "with", arguments.warmup_epochs
        )
    print(
        f"{arguments.trials} trials on {arguments.ticker}, searching {', '.join(SPACE.names())}; "
        f"MedianPruner(n_warmup_steps={arguments.warmup_epochs}); steps are epochs, from 1"
    )
    for label, figures in (("no pruning", without), ("MedianPruner", with_pruning)):
        print(
            f"{label:<13} fit {figures['train_seconds']:7.1f} s"
            f"  wall {figures['wall_seconds']:7.1f} s"
            f"  epochs {figures['epochs']:4d}  pruned {figures['pruned']:2d}"
            f"  best validation ratio {figures['best_value']:.4f}  {figures['best_params']}"
        )
    # Epochs do not depend on what else the machine runs; seconds do (other people's work).
    for key, label in (
        ("epochs", "epochs trained"),
        ("train_seconds", "fit time"),
        ("wall_seconds", "wall time"),
    ):
        saved = 1 - with_pruning[key] / without[key]
        print(f"pruning saved {saved:.0%} of the {label}")
    change = with_pruning["best_value"] / without["best_value"] - 1
    verdict = "within" if abs(change) <= 0.02 else "outside"
    print(f"best validation ratio changed by {change:+.2%} ({verdict} the 2% goal)")


if __name__ == "__main__":
    main()
