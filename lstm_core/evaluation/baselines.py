"""Forecasts that need no training, kept beside the model so every result is compared to them."""

from __future__ import annotations

from typing import Any

import numpy as np


def persistence_forecast(windows: np.ndarray) -> np.ndarray:
    """Tomorrow = today: the last value of each window.

    `windows` has shape (n, lag) or (n, lag, 1); the result has shape (n,).
    """
    windows = np.asarray(windows)
    if windows.ndim == 3:
        windows = windows[:, :, 0]
    if windows.ndim != 2 or windows.shape[1] < 1:
        raise ValueError(f"windows must have shape (n, lag) or (n, lag, 1), got {windows.shape}")
    return windows[:, -1].copy()


def no_skill_loss(scaled_targets: np.ndarray, scaled_last_inputs: np.ndarray, target: str) -> float:
    """The loss (MSE in the model's scale) of a forecast that predicts no change at all.

    For `change` the target is a scaled log change, so "no change" predicts 0 and scores the
    mean squared target. For `level` the target is the scaled next price, so "no change" is
    persistence: the window's last scaled price. A model whose loss stays on this line has
    learned nothing that repeating yesterday's price does not already do.
    """
    targets = np.asarray(scaled_targets, dtype=np.float64).reshape(-1)
    if len(targets) == 0:
        raise ValueError("no_skill_loss needs at least one target")
    if target == "change":
        return float(np.mean(targets**2))
    if target == "level":
        last = np.asarray(scaled_last_inputs, dtype=np.float64).reshape(-1)
        if last.shape != targets.shape:
            raise ValueError("scaled_last_inputs must hold one value per target")
        return float(np.mean((targets - last) ** 2))
    raise ValueError(f"target must be 'level' or 'change', got {target!r}")


def no_skill_losses(prepared: Any) -> dict[str, float | None]:
    """`no_skill_loss` on a prepared series' training windows and, if any, on the validation
    windows training reports a loss on (`watched_count`: early stopping's part, when it is on)."""
    training = no_skill_loss(prepared.y_train, prepared.x_train[:, -1, 0], prepared.target)
    validation = None
    if prepared.validation_count:
        watched = prepared.watched_count
        validation = no_skill_loss(
            prepared.y_validation[:watched], prepared.x_validation[:watched, -1, 0], prepared.target
        )
    return {"training": training, "validation": validation}


NO_SKILL_MARGIN = 0.01
"""A loss within 1% of the no-skill line is read as on it: no better than "no change"."""


def no_skill_position(loss: float, line: float) -> str:
    """'below', 'on' or 'above' the no-skill line, with NO_SKILL_MARGIN as "on"."""
    if loss < line * (1 - NO_SKILL_MARGIN):
        return "below"
    if loss > line * (1 + NO_SKILL_MARGIN):
        return "above"
    return "on"


def no_skill_sentence(
    losses: list[float],
    validation_losses: list[float],
    no_skill: dict[str, float | None],
    best_epoch: int | None = None,
) -> str:
    """One sentence: where the training (and kept validation) loss ended against the line."""
    if not losses:
        return "No epoch finished, so there is no loss to compare with the no-skill line."
    parts = []
    training_line = no_skill["training"]
    final = losses[-1]
    parts.append(
        f"The training loss ended at {final:.3f}, {no_skill_position(final, training_line)} "
        f"its no-skill line ({training_line:.3f}, what predicting no change scores)"
    )
    validation_line = no_skill.get("validation")
    if validation_losses and validation_line is not None:
        epoch = best_epoch if best_epoch and best_epoch <= len(validation_losses) else None
        kept = validation_losses[(epoch or len(validation_losses)) - 1]
        which = f"of the kept epoch {epoch}" if epoch else "at the last epoch"
        parts.append(
            f"the validation loss {which} is {kept:.3f}, "
            f"{no_skill_position(kept, validation_line)} its line ({validation_line:.3f})"
        )
    sentence = "; ".join(parts) + "."
    positions = {no_skill_position(final, training_line)}
    if len(parts) > 1:
        positions.add(no_skill_position(kept, validation_line))
    if positions <= {"on", "above"}:
        sentence += ' The model learned nothing that saying "no change" does not already do.'
    return sentence
