"""A study's trials as rows, its best trial and the best trial's held-out test figures."""

from __future__ import annotations

from typing import Any

import optuna

from lstm_core.config import (
    TrainConfig,
)
from lstm_core.experiments.store import RunStore


def trial_row(trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
    """A finished trial as the CLI's JSON lists it: number, params, value, state, epochs run."""
    return {
        "number": trial.number,
        "params": dict(trial.params),
        "value": trial.value if trial.state == optuna.trial.TrialState.COMPLETE else None,
        "state": trial.state.name,
        "epochs_run": trial.user_attrs.get("epochs_run"),
        "failure": trial.user_attrs.get("failure"),
    }


def trial_rows(study: optuna.Study) -> list[dict[str, Any]]:
    """Every finished trial of the study, as `trial_row` gives it."""
    return [trial_row(trial) for trial in study.trials if trial.state.is_finished()]


def best_trial(study: optuna.Study) -> optuna.trial.FrozenTrial | None:
    """The complete trial with the lowest validation ratio, or None when none completed."""
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    return min(complete, key=lambda trial: trial.value) if complete else None


def best_summary(study: optuna.Study, store: RunStore) -> dict[str, Any] | None:
    """The best trial with its held-out test figures, the study's only test figure.

    The trial's run already holds them (scored once, when it trained); they are read here and
    nowhere else in a study.
    """
    best = best_trial(study)
    if best is None:
        return None
    summary: dict[str, Any] = {
        "number": best.number,
        "params": dict(best.params),
        "value": best.value,
        "config": best.user_attrs.get("config"),
        "run_id": best.user_attrs.get("run_id"),
        "test": None,
    }
    run_id = best.user_attrs.get("run_id")
    if run_id is not None:
        run = store.load(run_id)
        summary["test"] = {
            "metrics": run.metrics,
            "comparison": run.comparison,
            "dates": [
                run.test_dates[0].strftime("%Y-%m-%d"),
                run.test_dates[-1].strftime("%Y-%m-%d"),
            ],
            "n": len(run.test_dates),
        }
    return summary


def study_report(study: optuna.Study, store: RunStore, seconds: float) -> dict[str, Any]:
    """The CLI's JSON: trials, best (with its held-out test figures) and seconds."""
    return {
        "study": study.study_name,
        "trials": trial_rows(study),
        "best": best_summary(study, store),
        "seconds": seconds,
    }


def complete_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The study's complete trials (those with a validation ratio)."""
    return study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))


def best_config(summary: dict[str, Any]) -> TrainConfig | None:
    """The best trial's full settings as a TrainConfig."""
    config = summary.get("config")
    return None if config is None else TrainConfig.from_dict(config)
