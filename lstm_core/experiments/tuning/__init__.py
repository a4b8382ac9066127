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
run store (group "tune"), so the Compare page can overlay them. The best trial's held-out test
figures, which its run already holds, are reported once at the end as the study's only test
figure.

space      what a study searches and one trial's config
study      a study's storage, name and plan, created or continued
objective  one trial: train, score on validation, prune; optimize runs the trials
summary    the trials as rows, the best trial and its held-out test figures
figures    Optuna's figures of a study
"""

from lstm_core.experiments.tuning.figures import (
    analysis_figures,
    history_figure,
    important_settings,
    intermediate_figure,
)
from lstm_core.experiments.tuning.objective import (
    BUDGET_STOP,
    TUNE_GROUP,
    StudyInterrupted,
    TrialProgress,
    optimize,
    run_trial,
    validation_baseline_mse,
)
from lstm_core.experiments.tuning.space import (
    DEFAULT_BASE,
    MIN_TIMEOUT_SECONDS,
    SETTINGS,
    SearchSpace,
    Setting,
    check_base,
    check_study_request,
    suggest_config,
)
from lstm_core.experiments.tuning.study import (
    STUDY_FORMAT,
    StudyError,
    StudyPlan,
    create_or_load_study,
    new_study_name,
    open_storage,
    stored_study,
    study_names,
    study_storage_url,
)
from lstm_core.experiments.tuning.summary import (
    best_config,
    best_summary,
    best_trial,
    budget_note,
    complete_trials,
    study_report,
    trial_row,
    trial_rows,
)

__all__ = [
    "BUDGET_STOP",
    "DEFAULT_BASE",
    "MIN_TIMEOUT_SECONDS",
    "SETTINGS",
    "STUDY_FORMAT",
    "TUNE_GROUP",
    "SearchSpace",
    "Setting",
    "StudyError",
    "StudyInterrupted",
    "StudyPlan",
    "TrialProgress",
    "analysis_figures",
    "best_config",
    "best_summary",
    "best_trial",
    "budget_note",
    "check_base",
    "check_study_request",
    "complete_trials",
    "create_or_load_study",
    "history_figure",
    "important_settings",
    "intermediate_figure",
    "new_study_name",
    "open_storage",
    "optimize",
    "run_trial",
    "stored_study",
    "study_names",
    "study_report",
    "study_storage_url",
    "suggest_config",
    "trial_row",
    "trial_rows",
    "validation_baseline_mse",
]
