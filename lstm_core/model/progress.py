"""What a training tells its caller, and the one-training-at-a-time lock; no TensorFlow here.

Kept apart from lstm_core.model.training so that a page server whose trainings run on a Dask
cluster can rebuild the workers' progress reports, and take the lock, without importing Keras.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

# One training at a time per process: Keras' random seed is global, so two fits running at
# once would disturb each other's results, and two cores gain nothing from running both.
TRAINING_LOCK = threading.Lock()


@dataclass(frozen=True)
class Progress:
    """What a progress hook is told, after a batch (throttled) and after every epoch."""

    epoch: int
    epochs: int
    batch: int
    batches: int
    loss: float | None
    epoch_losses: tuple[float, ...]
    elapsed: float
    seconds_left: float | None
    epoch_finished: bool
    epoch_validation_losses: tuple[float, ...] = ()

    @property
    def fraction(self) -> float:
        """Share of all batches done, 0..1."""
        total = self.epochs * self.batches
        done = (self.epoch - 1) * self.batches + self.batch
        return min(1.0, done / total) if total else 0.0


ProgressHook = Callable[[Progress], None]
StopRequest = Callable[[], bool]
