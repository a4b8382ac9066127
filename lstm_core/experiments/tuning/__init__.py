"""Optuna studies over the training settings: tuned on the validation period, judged once on test.

A study samples settings with TPE (`TPESampler(seed)`), trains each trial through
`run_training`, and scores it by the validation period's RMSE ratio to persistence; no test
figure enters the objective. After every epoch the trial reports its validation figure and a
pruner (`MedianPruner` by default) may end a hopeless trial. That check runs in our progress
hook and stop request, a few lines of our own: optuna-integration's KerasPruningCallback raises
inside `model.fit`, which our `train_model` interface (a progress hook and a stop request, no
extra callbacks) does not take, and which would lose the trained epochs' figures.

Studies live in Optuna's RDB storage next to the run store, so a study survives a restart and
can be continued (its trial numbers go on). Every complete trial is also saved as a run in the
run store (group "tune") with its validation figures and no test figures: a trial never
predicts the test period. When the study ends, the best trial's saved model predicts the test
period once (held_out); that is the study's only test figure.

space      what a study searches and one trial's config
study      a study's storage, name and plan, created or continued
objective  one trial: train, score on validation, prune; optimize runs the trials
summary    the trials as rows, the best trial and its held-out test figures
held_out   the best trial's one look at the test period, when the study ends
figures    Optuna's figures of a study

The names below load their module on first use, so that reading SETTINGS or DEFAULT_BASE (the
command line's parser does, for every command) imports neither Optuna nor SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "DEFAULT_BASE": "space",
    "MIN_TIMEOUT_SECONDS": "space",
    "SETTINGS": "space",
    "STUDY_FORMAT": "study",
    "SearchSpace": "space",
    "Setting": "space",
    "StudyError": "study",
    "StudyInterrupted": "objective",
    "StudyPlan": "study",
    "TUNE_GROUP": "objective",
    "BUDGET_STOP": "objective",
    "TrialProgress": "objective",
    "analysis_figures": "figures",
    "best_config": "summary",
    "best_summary": "summary",
    "best_trial": "summary",
    "budget_note": "summary",
    "check_base": "space",
    "check_study_request": "space",
    "complete_trials": "summary",
    "create_or_load_study": "study",
    "history_figure": "figures",
    "important_settings": "figures",
    "intermediate_figure": "figures",
    "judge_best_on_test": "held_out",
    "new_study_name": "study",
    "open_storage": "study",
    "optimize": "objective",
    "run_trial": "objective",
    "stored_study": "study",
    "study_names": "study",
    "study_report": "summary",
    "study_storage_url": "study",
    "suggest_config": "space",
    "trial_row": "summary",
    "trial_rows": "summary",
    "validation_baseline_mse": "objective",
}
"""Each public name and the module that defines it."""

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Load a public name's module on first use (PEP 562) and keep the name here."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value
