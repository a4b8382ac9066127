"""A finished run's numbers, kept apart from training so that reading runs needs no TensorFlow."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lstm_core.config import TrainConfig
from lstm_core.preprocessing import PreparedData


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
