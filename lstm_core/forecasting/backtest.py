"""Walk-forward backtest: train from scratch before each of K origins, forecast the block after.

The folds are planned in folds.py and scored in backtest_results.py; running them imports the
training code when called.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lstm_core.config import TrainConfig
from lstm_core.forecasting.backtest_results import BacktestResult, FoldResult, by_horizon_rmse
from lstm_core.forecasting.folds import DEFAULT_FOLDS, fold_config, plan_folds
from lstm_core.forecasting.forecast import check_horizon, recursive_forecast
from lstm_core.preprocessing import make_windows


@dataclass(frozen=True)
class FoldProgress:
    """Progress of a backtest: which fold, and the training progress inside it."""

    fold: int
    folds: int
    inner: Any = None

    @property
    def fraction(self) -> float:
        """Share of the whole backtest done, 0..1."""
        inside = self.inner.fraction if self.inner is not None else 0.0
        return min(1.0, (self.fold - 1 + inside) / self.folds)

    def describe(self, time_left: str | None = None) -> str:
        """'Fold 2 of 5 · epoch 3 of 10 · batch 4 of 5', then `time_left` when given
        ('about 30 s left for all 5 folds'), else this fold's own time left."""
        text = f"Fold {self.fold} of {self.folds}"
        inner = self.inner
        if inner is not None:
            text += (
                f" · epoch {inner.epoch} of {inner.epochs} · batch {inner.batch} of {inner.batches}"
            )
            if time_left is not None:
                text += f" · {time_left}"
            elif inner.seconds_left is not None:
                text += f" · about {inner.seconds_left:,.0f} s left in this fold"
        return text


_FORECASTERS: dict[tuple, Any] = {}
"""One model per architecture whose weights each fold overwrites, so predicting from it does
not trace a new prediction function per fold."""


def _forecaster(config: TrainConfig, model: Any) -> Any:
    from lstm_core.model.twin import NetworkTwin

    if config.model == "linear" or isinstance(model, NetworkTwin):
        # A ridge, or a twin of a network trained on a cluster, predicts without tracing
        # anything: the fold's own model serves.
        return model
    from lstm_core.model.network import build_model

    key = (config.model, config.lag, len(config.inputs), config.units, config.dense_units)
    if key not in _FORECASTERS:
        _FORECASTERS[key] = build_model(config)
    forecaster = _FORECASTERS[key]
    forecaster.set_weights(model.get_weights())
    return forecaster


def run_backtest(
    config: TrainConfig,
    series: pd.Series,
    folds: int = DEFAULT_FOLDS,
    horizon: int = 10,
    progress: Callable[[FoldProgress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    runner: Callable[..., Any] | None = None,
) -> BacktestResult:
    """Walk forward: fold k trains `config` from scratch on every window before its origin.

    `runner` trains one fold as `run_training` does (a cluster's runner, which hands back the
    model's NumPy twin, trains the folds on its workers); the forecasts are made here.

    Its validation period is the end of those windows (a plain run's share of them). It then
    forecasts each day of its block 1..horizon days ahead (recursively). A stop request ends
    the fold in training and keeps only the folds finished before it.
    """
    started = time.perf_counter()
    horizon = check_horizon(horizon)
    plans = plan_folds(config, len(series), folds)
    # Imported here so that planning (and a page checking its settings) needs no TensorFlow.
    from lstm_core.model.pipeline import run_training
    from lstm_core.model.progress import TRAINING_LOCK

    prices = np.asarray(series.to_numpy(), dtype=np.float64)
    dates = pd.DatetimeIndex(series.index)
    dollar_windows, _ = make_windows(prices, config.lag)
    finished: list[FoldResult] = []
    stopped = False
    for number, plan in enumerate(plans, start=1):
        if should_stop is not None and should_stop():
            stopped = True
            break

        def report(inner: Any, fold: int = number) -> None:
            progress(FoldProgress(fold=fold, folds=len(plans), inner=inner))

        if progress is not None:
            report(None)
        result = (runner or run_training)(
            fold_config(config, plan),
            series.iloc[: plan.end + config.lag],
            progress=report if progress is not None else None,
            should_stop=should_stop,
        )
        if result.stopped:
            stopped = True
            break
        with TRAINING_LOCK:
            forecasts = recursive_forecast(
                _forecaster(config, result.model),
                result.prepared,
                dollar_windows[plan.origin : plan.end],
                horizon,
            )
        finished.append(
            FoldResult(
                number=number,
                plan=plan,
                origin_date=dates[plan.origin + config.lag - 1],
                n_train=result.n_train,
                n_validation=plan.validation_count,
                test_dates=result.test_dates,
                actual=result.actual,
                predicted=result.predicted,
                persistence=result.persistence,
                metrics=result.metrics,
                comparison=result.comparison,
                forecasts=forecasts,
                fit_seconds=result.seconds,
                epochs_completed=result.epochs_completed,
                best_epoch=result.best_epoch,
            )
        )
    return BacktestResult(
        config=config,
        folds_planned=len(plans),
        horizon=horizon,
        folds=finished,
        by_horizon=by_horizon_rmse(finished, prices, config.lag, horizon),
        seconds=time.perf_counter() - started,
        stopped=stopped,
        finished_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    )
