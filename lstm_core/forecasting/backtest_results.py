"""A backtest's scores: each fold's one-day and by-horizon errors beside persistence's."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lstm_core.config import TrainConfig
from lstm_core.forecasting.folds import FoldPlan
from lstm_core.forecasting.forecast import horizon_errors


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
