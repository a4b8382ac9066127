"""One call from a price series and a config to a finished, evaluated run."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lstm_core.config import TrainConfig
from lstm_core.evaluation.baselines import no_skill_losses, persistence_forecast
from lstm_core.evaluation.metrics import forecast_metrics, in_sample_naive_mae
from lstm_core.evaluation.significance import comparison
from lstm_core.model.linear import fit_linear
from lstm_core.model.results import RunResult
from lstm_core.preprocessing import PreparedData, make_windows, prepare_config

if TYPE_CHECKING:
    from lstm_core.model.progress import ProgressHook, StopRequest


def score_period(
    prepared: PreparedData,
    scaled_predictions: np.ndarray,
    start: int,
    count: int,
) -> tuple[np.ndarray, np.ndarray, dict[str, dict[str, float]], dict[str, float | None]]:
    """Dollar predictions of the model and persistence for `count` windows from `start`.

    Returns the two forecasts, both metric sets and the comparison (ratio and tests).
    """
    # The baseline works on dollar windows: going through the float32 scaled inputs would add
    # rounding noise that looks like predicted moves and fakes a direction score.
    dollar_windows, _ = make_windows(prepared.prices, prepared.lag)
    period_windows = dollar_windows[start : start + count]
    last_known = period_windows[:, -1]
    actual = prepared.prices[prepared.lag + start : prepared.lag + start + count]
    predicted = prepared.to_dollars(scaled_predictions, last_known)
    persistence = persistence_forecast(period_windows)
    common = {
        "actual": actual,
        "last_known": last_known,
        "scale_std": prepared.scaler.std,
        "naive_mae": in_sample_naive_mae(prepared.train_prices),
    }
    metrics = {
        "lstm": forecast_metrics(predicted=predicted, **common),
        "persistence": forecast_metrics(predicted=persistence, **common),
    }
    figures = comparison(actual, predicted, persistence, last_known)
    return predicted, persistence, metrics, figures


def _fit(
    config: TrainConfig,
    prepared: PreparedData,
    progress: ProgressHook | None,
    should_stop: StopRequest | None,
    predict_test: bool = True,
) -> tuple[Any, list[tuple[str, str, int]]]:
    """Fit the config's model kind; the ridge needs no TensorFlow, so it is not imported.

    The ridge always predicts its test windows (a matrix product); `predict_test` spares
    the networks theirs (tuning trials are never scored on test).
    """
    if config.model == "linear":
        outcome = fit_linear(config, prepared, progress=progress, should_stop=should_stop)
        return outcome, outcome.model.layer_parameter_counts()
    from lstm_core.model.network import layer_parameter_counts
    from lstm_core.model.training import train_model

    outcome = train_model(
        config, prepared, progress=progress, should_stop=should_stop, predict_test=predict_test
    )
    return outcome, layer_parameter_counts(outcome.model)


def run_training(
    config: TrainConfig,
    series: pd.Series,
    progress: ProgressHook | None = None,
    should_stop: StopRequest | None = None,
    score_test: bool = True,
) -> RunResult:
    """Prepare, train, predict the whole test set once, and score model and baseline.

    With a validation period the run is also scored there, the figure to tune on; the test
    period's figures are the held-out judgement. With `score_test` False (a tuning trial) the
    test period is never predicted: the result has no test metrics and no test days.
    """
    prepared = prepare_config(series, config)
    outcome, layers = _fit(config, prepared, progress, should_stop, predict_test=score_test)
    if score_test:
        predicted, persistence, metrics, figures = score_period(
            prepared, outcome.test_predictions, prepared.test_start, prepared.test_count
        )
        test_dates, actual = prepared.test_dates, prepared.test_actual
    else:
        predicted = persistence = actual = np.empty(0)
        metrics, figures, test_dates = {}, None, prepared.test_dates[:0]
    validation = None
    if outcome.validation_predictions is not None:
        _, _, validation_metrics, validation_figures = score_period(
            prepared,
            outcome.validation_predictions,
            prepared.train_count,
            prepared.validation_count,
        )
        validation = {
            "metrics": validation_metrics,
            "comparison": validation_figures,
            "dates": [
                prepared.validation_dates[0].strftime("%Y-%m-%d"),
                prepared.validation_dates[-1].strftime("%Y-%m-%d"),
            ],
            "n": prepared.validation_count,
        }
    return RunResult(
        config=config,
        n_train=prepared.train_count,
        n_test=len(test_dates),
        metrics=metrics,
        loss_history=list(outcome.loss_history),
        test_dates=test_dates,
        actual=actual,
        predicted=predicted,
        persistence=persistence,
        seconds=outcome.seconds,
        stopped=outcome.stopped,
        epochs_completed=outcome.epochs_completed,
        finished_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        layers=layers,
        model=outcome.model,
        prepared=prepared,
        comparison=figures,
        validation=validation,
        validation_loss_history=list(outcome.validation_loss_history),
        best_epoch=outcome.best_epoch,
        early_stopped=outcome.early_stopped,
        no_skill=no_skill_losses(prepared),
    )
