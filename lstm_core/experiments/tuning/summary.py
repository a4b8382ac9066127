"""A study's trials as rows, its best trial and the best trial's held-out test figures."""

from __future__ import annotations

from typing import Any

import optuna

from lstm_core.config import (
    TrainConfig,
)

TEST_ATTR = "test"
"""The study's user attribute with the best trial's held-out test figures (see held_out)."""


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


def budget_note(study: optuna.Study) -> str | None:
    """A sentence when the time budget ended a running trial, naming it; None otherwise."""
    from lstm_core.experiments.tuning.objective import BUDGET_STOP

    cut = [
        trial.number + 1
        for trial in study.get_trials(deepcopy=False)
        if trial.user_attrs.get("failure") == BUDGET_STOP
    ]
    if not cut:
        return None
    complete = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))
    return (
        f"The time budget ran out during trial {cut[-1]}: that trial was stopped there and is "
        f"not counted; the {complete} complete trial(s) before it are kept."
    )


def best_trial(study: optuna.Study) -> optuna.trial.FrozenTrial | None:
    """The complete trial with the lowest validation ratio, or None when none completed."""
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    return min(complete, key=lambda trial: trial.value) if complete else None


def best_summary(study: optuna.Study) -> dict[str, Any] | None:
    """The best trial with its held-out test figures, the study's only test figure.

    `held_out.judge_best_on_test` computed those once, when the study ended; "test" is None
    when the best trial was not judged yet (a study still running, or stopped before that).
    """
    best = best_trial(study)
    if best is None:
        return None
    test = study.user_attrs.get(TEST_ATTR)
    return {
        "number": best.number,
        "params": dict(best.params),
        "value": best.value,
        "config": best.user_attrs.get("config"),
        "run_id": best.user_attrs.get("run_id"),
        "test": test if test is not None and test.get("number") == best.number else None,
    }


def study_report(study: optuna.Study, seconds: float) -> dict[str, Any]:
    """The CLI's JSON: trials, best (with its held-out test figures) and seconds."""
    return {
        "study": study.study_name,
        "trials": trial_rows(study),
        "best": best_summary(study),
        "seconds": seconds,
    }


def complete_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The study's complete trials (those with a validation ratio)."""
    return study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))


def best_config(summary: dict[str, Any]) -> TrainConfig | None:
    """The best trial's full settings as a TrainConfig."""
    config = summary.get("config")
    return None if config is None else TrainConfig.from_dict(config)
