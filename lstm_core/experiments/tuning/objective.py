"""A trial: train through run_training, score the validation ratio to persistence, prune.

The pruner's check runs in our progress hook and stop request. The pruner and the objective
read one figure on one scale: the validation RMSE ratio to persistence on the model's scale,
sqrt(val_loss / persistence's MSE), each epoch for the pruner and at the kept epoch for the
objective. A trial never predicts the test period, so no test figure exists to enter either.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import optuna
import pandas as pd

from lstm_core.data import series_fingerprint
from lstm_core.errors import LabError, TrainerLostError
from lstm_core.experiments.store import RunStore
from lstm_core.experiments.tuning.space import check_study_request, suggest_config
from lstm_core.experiments.tuning.study import StudyPlan
from lstm_core.experiments.tuning.summary import trial_row
from lstm_core.preprocessing import prepare_config

TUNE_GROUP = "tune"
"""The run store's group name of a study's trials."""


BUDGET_STOP = "stopped: the time budget ran out"
"""The failure reason of the trial that was running when a study's time budget ended."""


class StudyInterrupted(Exception):
    """Raised inside a trial when the person stopped the study; the trial is marked failed."""


def validation_baseline_mse(base_prepared: Any) -> float:
    """Persistence's mean squared error on the validation windows training reports a loss on
    (`watched_count`: with early stopping, its part only), on the model's scale.

    A window's last input is "today" on the model's scale for both targets (0 for changes), so
    sqrt(val_loss / this) is the epoch's validation RMSE ratio to persistence: comparable
    between trials that learn levels and changes, and for levels exactly the dollar ratio.
    """
    watched = base_prepared.watched_count
    today = base_prepared.x_validation[:watched, -1, 0].astype(np.float64)
    errors = base_prepared.y_validation[:watched].astype(np.float64) - today
    return float(np.mean(errors**2))


def validation_ratio(validation_losses: Sequence[float], epoch: int, baseline_mse: float) -> float:
    """The validation RMSE ratio to persistence after `epoch` (1-based), on the model's scale."""
    return math.sqrt(validation_losses[epoch - 1] / baseline_mse)


def kept_epoch(result: Any) -> int:
    """The epoch whose weights a run kept: early stopping's best, else the last one trained."""
    return result.best_epoch or len(result.validation_loss_history)


TrialProgress = Callable[[int, Any], None]
"""Told the trial's number and training's Progress after each batch group and epoch."""


def run_trial(
    trial: optuna.Trial,
    plan: StudyPlan,
    series: pd.Series,
    store: RunStore,
    owner: str = "local",
    progress: TrialProgress | None = None,
    should_stop: Callable[[], bool] | None = None,
    runner: Callable[..., Any] | None = None,
) -> float:
    """Train one trial; its value is the validation RMSE ratio to persistence at the kept epoch.

    `runner` trains as `run_training` does; a cluster's runner trains the trial on a worker,
    its per-epoch progress (and so the pruning) coming back as it goes. Either is told not to
    score the test period: the trial's run has no test figures at all.

    After each epoch the same figure is reported to the trial; when the pruner says so (before
    the last epoch), training stops there and optuna.TrialPruned is raised. A complete trial
    is saved as a run.
    """
    # Imported here so that planning a study (and the page that does it) stays light.
    from lstm_core.model.pipeline import run_training

    config = suggest_config(trial, plan.base, plan.space)
    trial.set_user_attr("config", config.to_dict())
    prepared = prepare_config(series, config)
    baseline_mse = validation_baseline_mse(prepared)
    pruned = False
    reported = 0

    def on_progress(state: Any) -> None:
        nonlocal pruned, reported
        if progress is not None:
            progress(trial.number, state)
        losses = state.epoch_validation_losses
        if state.epoch_finished and len(losses) > reported:
            reported = len(losses)
            trial.report(validation_ratio(losses, reported, baseline_mse), step=reported)
            # Pruning saves the epochs still to come; after the last one (a ridge has only
            # its one fit) the trial is complete, and ending it would only discard it.
            if state.epoch < state.epochs:
                pruned = pruned or trial.should_prune()

    def stop_training() -> bool:
        return pruned or (should_stop is not None and should_stop())

    train = runner or run_training
    result = train(
        config, series, progress=on_progress, should_stop=stop_training, score_test=False
    )
    trial.set_user_attr("epochs_run", result.epochs_completed)
    trial.set_user_attr("seconds", result.seconds)
    if pruned:
        raise optuna.TrialPruned(f"pruned after epoch {result.epochs_completed}")
    if result.stopped:
        raise StudyInterrupted("stopped by you")
    result.data_fingerprint = series_fingerprint(series)
    trial.set_user_attr("run_id", store.save(result, owner=owner, group=TUNE_GROUP))
    epoch = kept_epoch(result)
    trial.set_user_attr("kept_epoch", epoch)
    return validation_ratio(result.validation_loss_history, epoch, baseline_mse)


def optimize(
    study: optuna.Study,
    plan: StudyPlan,
    series: pd.Series,
    trials: int,
    timeout: float | None = None,
    store: RunStore | None = None,
    owner: str = "local",
    progress: TrialProgress | None = None,
    should_stop: Callable[[], bool] | None = None,
    on_trial_start: Callable[[int], None] | None = None,
    on_trial_end: Callable[[dict[str, Any]], None] | None = None,
    runner: Callable[..., Any] | None = None,
) -> None:
    """Run up to `trials` more trials (ask and tell), ending early on a stop or the time budget.

    After `timeout` seconds no trial starts and the running one is stopped at its next batch
    (failed, BUDGET_STOP), so a budget is kept, not overrun by a whole trial. A stop ends the
    running trial the same way ("stopped by you"); the finished trials stay in the study.
    """
    check_study_request(trials, timeout)
    store = store or RunStore()
    started = time.monotonic()
    budget_ended = False

    def stop_now() -> bool:
        nonlocal budget_ended
        if timeout is not None and time.monotonic() - started >= timeout:
            budget_ended = True
        return budget_ended or (should_stop is not None and should_stop())

    for index in range(trials):
        if stop_now():
            break
        if on_trial_start is not None:
            on_trial_start(index)
        trial = study.ask()
        interrupted = False
        try:
            value = run_trial(trial, plan, series, store, owner, progress, stop_now, runner)
        except optuna.TrialPruned:
            finished = study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        except StudyInterrupted:
            trial.set_user_attr("failure", BUDGET_STOP if budget_ended else "stopped by you")
            finished = study.tell(trial, state=optuna.trial.TrialState.FAIL)
            interrupted = True
        except TrainerLostError as error:
            # The cluster is gone: every further trial would fail the same way. The study
            # ends here with the trials finished so far.
            trial.set_user_attr("failure", str(error))
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            raise
        except LabError as error:
            # Settings that cannot train on these prices (a batch larger than the training
            # windows): the trial fails with the reason and the study goes on.
            trial.set_user_attr("failure", str(error))
            finished = study.tell(trial, state=optuna.trial.TrialState.FAIL)
        except BaseException:
            trial.set_user_attr("failure", "an unexpected error")
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            raise
        else:
            finished = study.tell(trial, value)
        if on_trial_end is not None:
            on_trial_end(trial_row(finished))
        if interrupted:
            break
