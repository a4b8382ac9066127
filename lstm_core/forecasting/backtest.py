"""Walk-forward backtest: train from scratch before each of K origins, forecast the block after.

Planning the folds needs no TensorFlow; running them imports the training code when called.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lstm_core.config import TrainConfig
from lstm_core.errors import NotEnoughDataError
from lstm_core.forecasting.forecast import check_horizon, horizon_errors, recursive_forecast
from lstm_core.preprocessing import make_windows

MIN_FOLDS = 2
MAX_FOLDS = 10
DEFAULT_FOLDS = 5
BACKTEST_SHARE = 0.4
"""The last share of the windows that the folds' test blocks cover."""
MIN_BLOCK = 3
"""The fewest test days a fold may have (the Diebold-Mariano test needs a few)."""


@dataclass(frozen=True)
class FoldPlan:
    """Window indexes of one fold: it tests windows origin..end-1 and trains on those before.

    Of the windows before `origin`, the last `validation_count` validate (early stopping) and
    the first `train_count` are fitted.
    """

    origin: int
    end: int
    validation_count: int

    @property
    def train_count(self) -> int:
        """Windows the fold's model is fitted on."""
        return self.origin - self.validation_count


def check_folds(folds: Any) -> int:
    """The fold count as an int, or ValueError with the allowed range."""
    if isinstance(folds, bool) or not isinstance(folds, int | np.integer):
        raise ValueError(f"the number of folds must be a whole number, got {folds!r}")
    if not MIN_FOLDS <= folds <= MAX_FOLDS:
        raise ValueError(
            f"the number of folds must be between {MIN_FOLDS} and {MAX_FOLDS}, got {folds}"
        )
    return int(folds)


def fold_boundaries(window_count: int, folds: int) -> list[int]:
    """The K + 1 window indexes that cut the last BACKTEST_SHARE of the windows into K blocks.

    Blocks differ in length by at most one window.
    """
    tested = math.floor(BACKTEST_SHARE * window_count)
    start = window_count - tested
    return [start + (index * tested) // folds for index in range(folds + 1)]


def _plans(config: TrainConfig, window_count: int, folds: int) -> list[FoldPlan]:
    bounds = fold_boundaries(window_count, folds)
    # The validation period keeps a plain run's proportion of the windows before the test.
    share = config.validation_fraction / config.train_fraction
    return [
        FoldPlan(origin=origin, end=end, validation_count=math.floor(share * origin))
        for origin, end in itertools.pairwise(bounds)
    ]


def _problem(config: TrainConfig, plans: list[FoldPlan]) -> str | None:
    """Why these folds cannot run (None when they can); the first fold has the least history."""
    if min(plan.end - plan.origin for plan in plans) < MIN_BLOCK:
        return f"each fold tests at least {MIN_BLOCK} days"
    first = plans[0]
    if config.validation_fraction > 0 and first.validation_count < 1:
        return "the first fold needs at least one validation day"
    if first.train_count < max(1, config.batch_size):
        return (
            f"the first fold needs at least {config.batch_size} training windows (the batch size)"
        )
    return None


def plan_folds(config: TrainConfig, price_count: int, folds: int) -> list[FoldPlan]:
    """The folds of a backtest of `config` on `price_count` prices, or NotEnoughDataError."""
    folds = check_folds(folds)
    window_count = price_count - config.lag
    plans = _plans(config, window_count, folds) if window_count > 0 else None
    reason = _problem(config, plans) if plans else "there are no windows at all"
    if reason is None:
        return plans
    needed = price_count + 1
    while needed < config.lag + 1_000_000:
        if _problem(config, _plans(config, needed - config.lag, folds)) is None:
            break
        needed += 1
    raise NotEnoughDataError(
        f"There are {price_count} prices; a backtest of {folds} folds at a lag of "
        f"{config.lag} days needs at least {needed} ({reason}). Choose fewer folds, a smaller "
        "lag or batch size, or load a longer price history."
    )


def fold_config(config: TrainConfig, plan: FoldPlan) -> TrainConfig:
    """`config` with the shares that make a plain run on the first plan.end windows this fold.

    The half window keeps floor(share x windows) from landing one below the intended count
    through rounding.
    """
    validation = (plan.validation_count + 0.5) / plan.end if plan.validation_count else 0.0
    return config.with_changes(
        train_fraction=(plan.origin + 0.5) / plan.end, validation_fraction=validation
    )


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

    def describe(self) -> str:
        """'Fold 2 of 5 · epoch 3 of 10 · batch 4 of 5 · about 3 s left'."""
        text = f"Fold {self.fold} of {self.folds}"
        inner = self.inner
        if inner is not None:
            text += (
                f" · epoch {inner.epoch} of {inner.epochs} · batch {inner.batch} of {inner.batches}"
            )
            if inner.seconds_left is not None:
                text += f" · about {inner.seconds_left:,.0f} s left in this fold"
        return text


@dataclass
class FoldResult:
    """One fold: its origin, its one-day forecasts and scores, and its 1..H-day forecasts."""

    number: int
    plan: FoldPlan
    origin_date: pd.Timestamp
    n_train: int
    n_validation: int
    test_dates: pd.DatetimeIndex
    actual: np.ndarray
    predicted: np.ndarray
    persistence: np.ndarray
    metrics: dict[str, dict[str, float]]
    comparison: dict[str, float | None]
    forecasts: np.ndarray
    fit_seconds: float
    epochs_completed: int
    best_epoch: int | None = None

    @property
    def ratio(self) -> float:
        """One-day RMSE ratio to persistence on this fold's block."""
        return float(self.comparison["rmse_ratio"])

    def to_json(self) -> dict[str, Any]:
        """One entry of the backtest JSON's `folds`."""
        return {
            "fold": self.number,
            "origin": self.origin_date.strftime("%Y-%m-%d"),
            "windows": {
                "origin": self.plan.origin,
                "end": self.plan.end,
                "validation": self.plan.validation_count,
            },
            "n_train": self.n_train,
            "n_validation": self.n_validation,
            "test_dates": [date.strftime("%Y-%m-%d") for date in self.test_dates],
            "metrics": self.metrics,
            "comparison": self.comparison,
            "fit_seconds": self.fit_seconds,
            "epochs_completed": self.epochs_completed,
            "best_epoch": self.best_epoch,
        }


@dataclass
class BacktestResult:
    """The finished (or stopped) folds of a walk-forward backtest and their pooled errors."""

    config: TrainConfig
    folds_planned: int
    horizon: int
    folds: list[FoldResult]
    by_horizon: dict[str, list[float | None]]
    seconds: float
    stopped: bool
    finished_at: str
    data_fingerprint: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def epochs_completed(self) -> int:
        """Epochs trained over all finished folds."""
        return sum(fold.epochs_completed for fold in self.folds)

    @property
    def fit_seconds(self) -> float:
        """Time spent inside `fit` over all finished folds."""
        return sum(fold.fit_seconds for fold in self.folds)

    def ratios(self) -> np.ndarray:
        """Each finished fold's one-day RMSE ratio to persistence."""
        return np.array([fold.ratio for fold in self.folds])

    def ratio_summary(self) -> dict[str, float | None]:
        """Mean and standard deviation (n - 1) of the folds' ratios; None where undefined."""
        ratios = self.ratios()
        return {
            "mean": float(ratios.mean()) if len(ratios) else None,
            "sd": float(ratios.std(ddof=1)) if len(ratios) > 1 else None,
            "min": float(ratios.min()) if len(ratios) else None,
            "max": float(ratios.max()) if len(ratios) else None,
        }

    def one_day(self) -> dict[str, np.ndarray | pd.DatetimeIndex]:
        """The folds' one-day forecasts stitched in time order, with the real prices."""
        if not self.folds:
            empty = np.array([], dtype=np.float64)
            return {
                "dates": pd.DatetimeIndex([]),
                "actual": empty,
                "lstm": empty,
                "persistence": empty,
            }
        return {
            "dates": pd.DatetimeIndex(np.concatenate([fold.test_dates for fold in self.folds])),
            "actual": np.concatenate([fold.actual for fold in self.folds]),
            "lstm": np.concatenate([fold.predicted for fold in self.folds]),
            "persistence": np.concatenate([fold.persistence for fold in self.folds]),
        }

    @classmethod
    def from_json(cls, content: dict[str, Any]) -> BacktestResult:
        """Inverse of `to_json` (the run store keeps backtests this way), without the paths."""
        one_day = {
            name: np.asarray(content["one_day"][name], dtype=np.float64)
            for name in ("actual", "lstm", "persistence")
        }
        folds, start = [], 0
        for entry in content["folds"]:
            folds.append(_fold_from_json(entry, one_day, start, content["horizon"]))
            start += len(entry["test_dates"])
        return cls(
            config=TrainConfig.from_dict(content["config"]),
            folds_planned=content["folds_planned"],
            horizon=content["horizon"],
            folds=folds,
            by_horizon=content["by_horizon"],
            seconds=content["seconds"],
            stopped=content["stopped"],
            finished_at=content["finished_at"],
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON the CLI writes: folds, by_horizon, seconds, and the stitched forecasts."""
        stitched = self.one_day()
        return {
            "config": self.config.to_dict(),
            "folds_planned": self.folds_planned,
            "horizon": self.horizon,
            "folds": [fold.to_json() for fold in self.folds],
            "ratio_summary": self.ratio_summary(),
            "by_horizon": self.by_horizon,
            "one_day": {
                "dates": [date.strftime("%Y-%m-%d") for date in stitched["dates"]],
                **{
                    name: [float(value) for value in stitched[name]]
                    for name in ("actual", "lstm", "persistence")
                },
            },
            "seconds": self.seconds,
            "fit_seconds": self.fit_seconds,
            "stopped": self.stopped,
            "finished_at": self.finished_at,
        }


def _fold_from_json(
    entry: dict[str, Any], one_day: dict[str, np.ndarray], start: int, horizon: int
) -> FoldResult:
    """A fold of `BacktestResult.to_json` back, its arrays cut from the stitched ones."""
    stop = start + len(entry["test_dates"])
    windows = entry["windows"]
    return FoldResult(
        number=entry["fold"],
        plan=FoldPlan(windows["origin"], windows["end"], windows["validation"]),
        origin_date=pd.Timestamp(entry["origin"]),
        n_train=entry["n_train"],
        n_validation=entry["n_validation"],
        test_dates=pd.DatetimeIndex(pd.to_datetime(entry["test_dates"])),
        actual=one_day["actual"][start:stop],
        predicted=one_day["lstm"][start:stop],
        persistence=one_day["persistence"][start:stop],
        metrics=entry["metrics"],
        comparison=entry["comparison"],
        # The 1..H-day paths are summed up in by_horizon and not kept.
        forecasts=np.empty((0, horizon)),
        fit_seconds=entry["fit_seconds"],
        epochs_completed=entry["epochs_completed"],
        best_epoch=entry["best_epoch"],
    )


def by_horizon_rmse(
    folds: list[FoldResult], prices: np.ndarray, lag: int, horizon: int
) -> dict[str, list[float | None]]:
    """RMSE in dollars at each step 1..H over every origin of every fold whose day is known."""
    out: dict[str, list[float | None]] = {"lstm": [], "persistence": []}
    if not folds:
        out["lstm"] = out["persistence"] = [None] * horizon
        return out
    last_indexes = np.concatenate([np.arange(f.plan.origin, f.plan.end) for f in folds]) + lag - 1
    forecasts = np.concatenate([fold.forecasts for fold in folds])
    flat = np.repeat(prices[last_indexes][:, None], horizon, axis=1)
    for name, predicted in (("lstm", forecasts), ("persistence", flat)):
        for errors in horizon_errors(predicted, prices, last_indexes, in_logs=False):
            out[name].append(float(np.sqrt(np.mean(errors**2))) if len(errors) else None)
    return out


_FORECASTERS: dict[tuple, Any] = {}
"""One model per architecture whose weights each fold overwrites, so predicting from it does
not trace a new prediction function per fold."""


def _forecaster(config: TrainConfig, model: Any) -> Any:
    from lstm_core.model.network import build_model

    key = (config.lag, config.units, config.dense_units)
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
) -> BacktestResult:
    """Walk forward: fold k trains `config` from scratch on every window before its origin.

    Its validation period is the end of those windows (a plain run's share of them). It then
    forecasts each day of its block 1..horizon days ahead (recursively). A stop request ends
    the fold in training and keeps only the folds finished before it.
    """
    started = time.perf_counter()
    horizon = check_horizon(horizon)
    plans = plan_folds(config, len(series), folds)
    # Imported here so that planning (and a page checking its settings) needs no TensorFlow.
    from lstm_core.model.pipeline import run_training
    from lstm_core.model.training import TRAINING_LOCK

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
        result = run_training(
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
