"""One call from a price series and a config to a finished, evaluated run."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from lstm_core.baselines import persistence_forecast
from lstm_core.config import TrainConfig
from lstm_core.evaluate import forecast_metrics, in_sample_naive_mae
from lstm_core.model import layer_parameter_counts
from lstm_core.preprocessing import PreparedData, check_fits, make_windows, prepare
from lstm_core.results import RunResult
from lstm_core.train import ProgressHook, StopRequest, train_model


def evaluate_predictions(
    prepared: PreparedData, scaled_predictions: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[str, dict[str, float]]]:
    """Dollar predictions of the model and of persistence, and both metric sets."""
    predicted = prepared.scaler.inverse(np.asarray(scaled_predictions).reshape(-1))
    # The baseline works on dollar windows: going through the float32 scaled inputs would add
    # rounding noise that looks like predicted moves and fakes a direction score.
    dollar_windows, _ = make_windows(prepared.prices, prepared.lag)
    persistence = persistence_forecast(dollar_windows[prepared.train_count :])
    naive_mae = in_sample_naive_mae(prepared.train_prices)
    common = {
        "actual": prepared.test_actual,
        "last_known": prepared.test_last_known,
        "scale_std": prepared.scaler.std,
        "naive_mae": naive_mae,
    }
    metrics = {
        "lstm": forecast_metrics(predicted=predicted, **common),
        "persistence": forecast_metrics(predicted=persistence, **common),
    }
    return predicted, persistence, metrics


def run_training(
    config: TrainConfig,
    series: pd.Series,
    progress: ProgressHook | None = None,
    should_stop: StopRequest | None = None,
) -> RunResult:
    """Prepare, train, predict the whole test set once, and score model and baseline."""
    check_fits(len(series), config.lag, config.train_fraction, config.batch_size)
    prepared = prepare(series, config.lag, config.train_fraction)
    outcome = train_model(config, prepared, progress=progress, should_stop=should_stop)
    predicted, persistence, metrics = evaluate_predictions(prepared, outcome.test_predictions)
    return RunResult(
        config=config,
        n_train=prepared.train_count,
        n_test=prepared.test_count,
        metrics=metrics,
        loss_history=list(outcome.loss_history),
        test_dates=prepared.test_dates,
        actual=prepared.test_actual,
        predicted=predicted,
        persistence=persistence,
        seconds=outcome.seconds,
        stopped=outcome.stopped,
        epochs_completed=outcome.epochs_completed,
        finished_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        layers=layer_parameter_counts(outcome.model),
        model=outcome.model,
        prepared=prepared,
    )
