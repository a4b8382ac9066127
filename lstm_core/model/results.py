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
    comparison: dict[str, Any] | None = None
    validation: dict[str, Any] | None = None
    validation_loss_history: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    early_stopped: bool = False
    no_skill: dict[str, float | None] | None = None

    def extras_json(self) -> dict[str, Any]:
        """What the run store keeps beside its fixed columns (see RunStore.save)."""
        return {
            "comparison": self.comparison,
            "validation": self.validation,
            "val_loss": [float(value) for value in self.validation_loss_history],
            "best_epoch": self.best_epoch,
            "early_stopped": self.early_stopped,
            "no_skill": self.no_skill,
        }

    def apply_extras(self, extras: dict[str, Any]) -> None:
        """Restore what `extras_json` kept (runs saved before it existed have none)."""
        self.comparison = extras.get("comparison")
        self.validation = extras.get("validation")
        self.validation_loss_history = list(extras.get("val_loss") or [])
        self.best_epoch = extras.get("best_epoch")
        self.early_stopped = bool(extras.get("early_stopped", False))
        self.no_skill = extras.get("no_skill")

    def kept_weights_note(self) -> str | None:
        """Which epoch's weights the model kept and why, when early stopping was on."""
        if self.best_epoch is None:
            return None
        if self.early_stopped:
            return (
                "Early stopping: the validation loss (on the validation period's first half, "
                "which it watches; the second half is kept for the forecast's bands) had not "
                f"improved for {self.config.patience} epoch(s) after epoch {self.best_epoch}, so "
                f"training ended after epoch {self.epochs_completed} and kept epoch "
                f"{self.best_epoch}'s weights, those with the lowest validation loss."
            )
        return (
            f"Kept epoch {self.best_epoch}'s weights of {self.epochs_completed}: they had the "
            "lowest loss on the validation period's first half, which early stopping watches."
        )

    def label(self) -> str:
        """The run's name; a stopped run says so: '... stopped at 10 of 50 epochs ...'."""
        return self.config.label(stopped_after=self.epochs_completed if self.stopped else None)

    def to_json(self) -> dict[str, Any]:
        """The JSON the CLI writes (dollars for prices, ISO dates)."""
        return {
            "config": self.config.to_dict(),
            "n_train": self.n_train,
            "n_test": self.n_test,
            "metrics": self.metrics,
            "history": {
                "loss": [float(value) for value in self.loss_history],
                "val_loss": [float(value) for value in self.validation_loss_history],
                "no_skill_loss": self.no_skill,
            },
            "comparison": self.comparison,
            "validation": self.validation,
            "best_epoch": self.best_epoch,
            "early_stopped": self.early_stopped,
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
