"""Time left for a job of several runs, folds or trials, from what this machine measured so far.

A job is a sequence of units (the runs of a seed group or sweep, the folds of a backtest, the
trials of a study). Units that train alike share a key (a seed group's settings); a unit
still to come is estimated from the finished units of its key, or else from the epochs of its
key measured so far. A unit whose key nothing has measured yet is counted apart, so a page
says "at least" instead of a number that cannot hold (batch 1 guessed from batch 200).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lstm_core.config import TrainConfig


def settings_key(config: TrainConfig) -> str:
    """Runs with this key train alike: the same config but for the seed."""
    return repr(sorted(config.with_changes(seed=0).to_dict().items()))


@dataclass(frozen=True)
class Estimate:
    """Seconds left for the whole job, and how many units no measurement covers yet."""

    seconds: float
    unmeasured: int = 0

    def text(self, units: int, noun: str) -> str:
        """'about 40 s left for all 4 runs', or 'at least 40 s left for all 4 runs (2 not
        timed yet: no run with their settings has trained an epoch)'."""
        if self.unmeasured == 0:
            return f"about {self.seconds:,.0f} s left for all {units} {noun}"
        return (
            f"at least {self.seconds:,.0f} s left for all {units} {noun} ({self.unmeasured} "
            f"not timed yet: none like {'it' if self.unmeasured == 1 else 'them'} has trained "
            "an epoch here)"
        )


class TimeLeft:
    """Measures each unit and each epoch as progress arrives, and estimates what is left.

    `observe` is called with every progress report; a report of a new unit ends the previous
    one (its whole time, the work around its training included, is what a like unit takes).
    """

    def __init__(self) -> None:
        self.unit_seconds: dict[str, list[float]] = {}
        self.epoch_seconds: dict[str, list[float]] = {}
        self._unit: int | None = None
        self._key = ""
        self._unit_started = 0.0
        self._last_epoch = 0
        self._last_elapsed = 0.0

    def observe(self, unit: int, key: str, progress: Any, now: float) -> None:
        """Record a progress report of `unit` (0-based) at monotonic time `now`.

        `progress` is a training Progress or None (a unit that has started, before training).
        """
        if unit != self._unit:
            if self._unit is not None:
                self.unit_seconds.setdefault(self._key, []).append(now - self._unit_started)
            self._unit, self._key, self._unit_started = unit, key, now
            self._last_epoch, self._last_elapsed = 0, 0.0
        if progress is None or not getattr(progress, "epoch_finished", False):
            return
        if progress.epoch > self._last_epoch:
            self.epoch_seconds.setdefault(key, []).append(progress.elapsed - self._last_elapsed)
            self._last_epoch, self._last_elapsed = progress.epoch, progress.elapsed

    def unit_estimate(self, key: str, epochs: int) -> float | None:
        """Seconds a unit of `key` with `epochs` planned takes, from what was measured, or None."""
        finished = self.unit_seconds.get(key)
        if finished:
            return sum(finished) / len(finished)
        epochs_seen = self.epoch_seconds.get(key)
        if epochs_seen:
            return sum(epochs_seen) / len(epochs_seen) * epochs
        return None

    def estimate(
        self, progress: Any, epochs: int, remaining: Sequence[tuple[str, int]], now: float
    ) -> Estimate | None:
        """Time left: the current unit's rest plus each remaining (key, epochs) unit.

        None before anything is measured (the current unit has no estimate of its own yet).
        """
        current_left = getattr(progress, "seconds_left", None)
        if current_left is None:
            per_epoch = self.epoch_seconds.get(self._key)
            if not per_epoch or progress is None:
                return None
            epochs_left = max(0, epochs - int(getattr(progress, "epoch", 1)) + 1)
            current_left = sum(per_epoch) / len(per_epoch) * epochs_left
        seconds = float(current_left)
        unmeasured = 0
        for key, unit_epochs in remaining:
            guess = self.unit_estimate(key, unit_epochs)
            if guess is None and key == self._key:
                # Nothing of this kind has finished an epoch yet: the current unit's own pace.
                guess = now - self._unit_started + float(current_left)
            if guess is None:
                unmeasured += 1
            else:
                seconds += guess
        return Estimate(seconds, unmeasured)


def measured_run_seconds(table: Any, config: TrainConfig) -> tuple[float, int] | None:
    """(median seconds, how many runs) of the complete saved runs trained like `config`, or None.

    `table` is RunStore.table(); runs that differ only in their seed or ticker count alike.
    """
    if table is None or len(table) == 0:
        return None
    alike = table[
        (table["lag"] == config.lag)
        & (table["batch"] == config.batch_size)
        & (table["epochs"] == config.epochs)
        & (table["units"] == "/".join(str(size) for size in config.units))
        & (table["learning rate"] == config.learning_rate)
        & (table["target"] == config.target)
        & (table["validation share"] == config.validation_fraction)
        & (table["train share"] == config.train_fraction)
        & ~table["stopped"].astype(bool)
    ]
    if alike.empty:
        return None
    return float(alike["seconds"].median()), len(alike)


def measured_text(measured: tuple[float, int] | None) -> str:
    """'Measured here: about 12 s a run (median of 3 saved runs).', or '' when never measured."""
    if measured is None:
        return ""
    seconds, count = measured
    runs = "1 saved run" if count == 1 else f"median of {count} saved runs"
    return f"Measured here: about {seconds:,.0f} s a run ({runs})."
