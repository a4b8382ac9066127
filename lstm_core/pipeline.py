"""One call from a price series and a config to a finished, evaluated run."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lstm_core.baselines import persistence_forecast
from lstm_core.config import TrainConfig
from lstm_core.evaluate import forecast_metrics, in_sample_naive_mae
from lstm_core.model import layer_parameter_counts
from lstm_core.preprocessing import PreparedData, check_fits, prepare
from lstm_core.train import ProgressHook, StopRequest, train_model


@dataclass
class RunResult:
    """A finished (or stopped) run: its config, metrics, history and test predictions."""

    config: TrainConfig
    n_train: int
    n_test: int
    metrics: dict[str, dict[str, float]]
    loss_history: list[float]
    test_dates: pd.DatetimeIndex
    actual: np.ndarray
    predicted: np.ndarray
    persistence: np.ndarray
    seconds: float
    stopped: bool
    epochs_completed: int
    finished_at: str
    layers: list[tuple[str, str, int]] = field(default_factory=list)
    model: Any = None
    prepared: PreparedData | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON the CLI writes (dollars for prices, ISO dates)."""
        return {
            "config": self.config.to_dict(),
            "n_train": self.n_train,
            "n_test": self.n_test,
            "metrics": self.metrics,
            "history": {"loss": [float(value) for value in self.loss_history]},
            "test": {
                "dates": [date.strftime("%Y-%m-%d") for date in self.test_dates],
                "actual": [float(value) for value in self.actual],
                "predicted": [float(value) for value in self.predicted],
                "persistence": [float(value) for value in self.persistence],
            },
            "seconds": self.seconds,
            "stopped": self.stopped,
            "epochs_completed": self.epochs_completed,
            "finished_at": self.finished_at,
        }


def evaluate_predictions(
    prepared: PreparedData, scaled_predictions: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[str, dict[str, float]]]:
    """Dollar predictions of the model and of persistence, and both metric sets."""
    predicted = prepared.scaler.inverse(np.asarray(scaled_predictions).reshape(-1))
    persistence = prepared.scaler.inverse(persistence_forecast(prepared.x_test))
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
    scaled = outcome.model.predict(prepared.x_test, batch_size=1024, verbose=0)
    predicted, persistence, metrics = evaluate_predictions(prepared, scaled)
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
