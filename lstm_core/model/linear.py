"""The `linear` model kind: a ridge regression of the target on the window's scaled inputs
(every day's close and, with extra inputs, every day's volume, range or market too).

The same windows, split, scaler and target as the recurrent models, fitted with
scikit-learn's `Ridge` in well under a second. No TensorFlow is imported here.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lstm_core.config import TrainConfig
from lstm_core.preprocessing import PreparedData

ALPHA_GRID = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)
"""The ridge penalties tried on the validation period, when there is one."""
DEFAULT_ALPHA = 1.0
"""scikit-learn's default penalty, used when there is no validation period to choose on."""
RIDGE_ARRAYS = ("coefficients.npy", "intercept.npy", "alpha.npy")
"""What a stored ridge's `.npz` holds (a `.keras` file is a zip too, with config.json)."""


def is_ridge_bytes(content: bytes) -> bool:
    """Whether stored model bytes are a ridge model's `.npz` archive."""
    try:
        with zipfile.ZipFile(io.BytesIO(bytes(content))) as archive:
            return sorted(archive.namelist()) == sorted(RIDGE_ARRAYS)
    except zipfile.BadZipFile:
        return False


@dataclass(frozen=True)
class RidgeWindowModel:
    """A fitted ridge: prediction = window (scaled, oldest day first) . coefficients + intercept.

    Answers `predict` and `predict_on_batch` as a Keras model does, so forecasts, backtests
    and the run store treat it like the recurrent models.
    """

    coefficients: np.ndarray
    intercept: float
    alpha: float

    @property
    def weight_count(self) -> int:
        """How many values a window holds: its days x its inputs a day."""
        return int(self.coefficients.shape[0])

    def predict_on_batch(self, inputs: np.ndarray) -> np.ndarray:
        """Predictions of shape (n, 1) for windows of shape (n, lag) or (n, lag, channels)."""
        windows = np.asarray(inputs, dtype=np.float64).reshape(len(inputs), -1)
        if windows.shape[1] != self.weight_count:
            raise ValueError(
                f"windows must hold {self.weight_count} values, got {windows.shape[1]}"
            )
        return (windows @ self.coefficients + self.intercept).reshape(-1, 1)

    def predict(self, inputs: np.ndarray, batch_size: int | None = None, verbose: int = 0) -> Any:
        """As `predict_on_batch` (the arguments mirror Keras' and change nothing)."""
        return self.predict_on_batch(inputs)

    def count_params(self) -> int:
        """One coefficient per day and input of the window, and the intercept."""
        return self.weight_count + 1

    def layer_parameter_counts(self) -> list[tuple[str, str, int]]:
        """As `network.layer_parameter_counts` lists a Keras model's layers."""
        return [("ridge", "Ridge", self.count_params())]

    def to_bytes(self) -> bytes:
        """A small NumPy archive (no pickled objects) for the run store and downloads."""
        buffer = io.BytesIO()
        np.savez(
            buffer,
            coefficients=self.coefficients,
            intercept=np.array([self.intercept]),
            alpha=np.array([self.alpha]),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, content: bytes) -> RidgeWindowModel:
        """Inverse of `to_bytes`; refuses pickled content."""
        if not is_ridge_bytes(content):
            raise ValueError("these bytes are not a stored ridge model")
        with np.load(io.BytesIO(bytes(content)), allow_pickle=False) as archive:
            return cls(
                coefficients=np.asarray(archive["coefficients"], dtype=np.float64),
                intercept=float(archive["intercept"][0]),
                alpha=float(archive["alpha"][0]),
            )


@dataclass
class LinearOutcome:
    """What `fit_linear` gives `run_training`: the fields of training's TrainOutcome it reads."""

    model: RidgeWindowModel
    loss_history: list[float]
    stopped: bool
    epochs_completed: int
    seconds: float
    test_predictions: np.ndarray
    validation_predictions: np.ndarray | None = None
    validation_loss_history: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    early_stopped: bool = False
    validation_errors: dict[float, float] = field(default_factory=dict)


def flat(windows: np.ndarray) -> np.ndarray:
    """Scaled windows (n, lag, channels) as the ridge's rows (n, lag x channels)."""
    return np.asarray(windows, dtype=np.float64).reshape(len(windows), -1)


def fit_ridge(inputs: np.ndarray, targets: np.ndarray, alpha: float) -> RidgeWindowModel:
    """scikit-learn's Ridge with an intercept, fitted on (n, lag) rows."""
    from sklearn.linear_model import Ridge

    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha <= 1e6:
        raise ValueError(f"ridge alpha must be above 0 and at most 1,000,000, got {alpha!r}")
    ridge = Ridge(alpha=float(alpha)).fit(flat(inputs), np.asarray(targets, dtype=np.float64))
    return RidgeWindowModel(
        coefficients=np.asarray(ridge.coef_, dtype=np.float64).reshape(-1),
        intercept=float(ridge.intercept_),
        alpha=float(alpha),
    )


def _mse(model: RidgeWindowModel, inputs: np.ndarray, targets: np.ndarray) -> float:
    errors = model.predict_on_batch(inputs).reshape(-1) - np.asarray(targets).reshape(-1)
    return float(np.mean(errors**2))


def fit_linear(
    config: TrainConfig,
    prepared: PreparedData,
    progress: Callable[[Any], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> LinearOutcome:
    """Fit the ridge on the training windows; with a validation period, alpha is the grid's
    value with the lowest validation error on `prepared.watched_count` windows (test windows
    are never looked at to choose).

    Progress is reported once, as done, since the fit takes milliseconds; a stop requested
    before it starts still fits (there is nothing partial to keep).
    """
    # Imported before the clock starts: the time shown is the fit's, not the import's.
    from sklearn.linear_model import Ridge  # noqa: F401

    started = time.perf_counter()
    has_validation = prepared.validation_count > 0
    validation_errors: dict[float, float] = {}
    if has_validation:
        # Chosen on the windows early stopping would watch, so the bands' own stay unused.
        watched = prepared.watched_count
        x_watched, y_watched = prepared.x_validation[:watched], prepared.y_validation[:watched]
        for alpha in ALPHA_GRID:
            candidate = fit_ridge(prepared.x_train, prepared.y_train, alpha)
            validation_errors[alpha] = _mse(candidate, x_watched, y_watched)
        alpha = min(validation_errors, key=validation_errors.get)
    else:
        alpha = DEFAULT_ALPHA
    model = fit_ridge(prepared.x_train, prepared.y_train, alpha)
    seconds = time.perf_counter() - started
    train_loss = _mse(model, prepared.x_train, prepared.y_train)
    validation_loss = [validation_errors[alpha]] if has_validation else []
    if progress is not None:
        # Training's Progress lives beside Keras; imported only when someone listens.
        from lstm_core.model.progress import Progress

        progress(
            Progress(
                epoch=1,
                epochs=1,
                batch=1,
                batches=1,
                loss=train_loss,
                epoch_losses=(train_loss,),
                elapsed=seconds,
                seconds_left=0.0,
                epoch_finished=True,
                epoch_validation_losses=tuple(validation_loss),
            )
        )
    return LinearOutcome(
        model=model,
        loss_history=[train_loss],
        stopped=False,
        epochs_completed=1,
        seconds=seconds,
        test_predictions=model.predict_on_batch(prepared.x_test).reshape(-1),
        validation_predictions=(
            model.predict_on_batch(prepared.x_validation).reshape(-1) if has_validation else None
        ),
        validation_loss_history=validation_loss,
        validation_errors=validation_errors,
    )
