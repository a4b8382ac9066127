"""What the forecast's bands are calibrated on: conformal quantiles, the validation days they
may use, and each origin's recent volatility.

The bands come from split conformal prediction, whose promise holds only when the scores it
calibrates on are like new ones: taken on days that chose nothing. With early stopping the
first half of the validation period chose the epoch (`watched_validation_count`), so only the
later half calibrates, and it must hold at least MIN_CALIBRATION_ORIGINS starting days.
"""

from __future__ import annotations

import math

import numpy as np

from lstm_core.errors import LabError
from lstm_core.preprocessing import split_count

LEVELS = (0.8, 0.95)
"""The bands' nominal coverage."""
VOLATILITY_DAYS = 20
"""Adaptive bands scale with the root mean square of the last 20 daily log changes (a month).
Chosen without the test period or the bands' own calibration days: bench/bench_volatility_window.py
compares 10, 20, 40, 60 days and fixed-width bands on the validation days early stopping watches
(and, with persistence's errors, on the training days). There a band calibrated on some days held
its level best on the next days with 10 or 20 (mean miss 8.3 and 8.6 points on the watched days,
5.7 and 5.9 on the training days, against 9.4 and 8.9 for fixed width), and 20 is the narrower."""
MIN_VOLATILITY = 1e-6
MIN_CALIBRATION_ORIGINS = 60
"""With early stopping, the least number of validation days left over to calibrate the bands."""


class BandsNeedValidationError(LabError):
    """The conformal bands are calibrated on a validation period, and this run has too little."""


def conformal_quantile(scores: np.ndarray, level: float) -> float:
    """Split-conformal quantile of nonconformity scores at `level`.

    The finite-sample version: the ceil((n + 1) x level)-th smallest of the n scores, i.e. the
    empirical quantile at ceil((n + 1) x level) / n (numpy's method "inverted_cdf"). With
    exchangeable errors a band of this half-width covers a new value with probability at least
    `level`. Infinite when n is too small for that rank to exist.
    """
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    count = len(scores)
    rank = math.ceil((count + 1) * level)
    if count == 0 or rank > count:
        return math.inf
    return float(np.sort(scores)[rank - 1])


def minimum_calibration(level: float) -> int:
    """The fewest scores for which `conformal_quantile` at `level` is finite."""
    count = 1
    while math.ceil((count + 1) * level) > count:
        count += 1
    return count


def calibration_needed(horizon: int, early_stopping: bool) -> int:
    """The fewest calibration origins bands `horizon` days ahead need.

    Step h is calibrated on the origins whose h-th day still lies inside the validation
    period, calibration count - h + 1 of them; with early stopping, at least
    MIN_CALIBRATION_ORIGINS origins besides.
    """
    needed = minimum_calibration(max(LEVELS)) + horizon - 1
    return max(needed, MIN_CALIBRATION_ORIGINS) if early_stopping else needed


def share_needed(price_count: int, validation_days: int) -> float | None:
    """The smallest whole-percent validation share giving `validation_days` days, if any < 100%."""
    for percent in range(1, 100):
        if split_count(price_count, percent / 100) >= validation_days:
            return percent / 100
    return None


def check_bands_possible(
    validation_count: int,
    horizon: int,
    early_stopping: bool = False,
    price_count: int | None = None,
) -> None:
    """Refuse bands a validation period of `validation_count` windows cannot calibrate.

    Without early stopping every validation origin calibrates; with it only the later half,
    which early stopping did not watch (see `watched_validation_count`). `price_count` lets
    the refusal name the validation share that would do.
    """
    if validation_count < 1:
        raise BandsNeedValidationError(
            "The forecast's bands are measured on a validation period, and this run has none: "
            "set a validation share above 0 (the Recommended preset keeps 10%) to get them."
        )
    needed = calibration_needed(horizon, early_stopping)
    if not early_stopping:
        if validation_count < needed:
            raise BandsNeedValidationError(
                f"The validation period has {validation_count} days; {max(LEVELS):.0%} bands "
                f"{horizon} days ahead need at least {needed}. Choose a larger validation share "
                "or a shorter horizon."
            )
        return
    calibration = validation_count // 2
    if calibration >= needed:
        return
    share = None if price_count is None else share_needed(price_count, 2 * needed)
    asked = f" (a validation share of at least {share:.0%})" if share is not None else ""
    raise BandsNeedValidationError(
        f"With early stopping on, the bands are measured only on the later half of the "
        f"validation period, the {calibration} days early stopping did not watch; they need "
        f"at least {needed}, so {2 * needed} validation days{asked}. Choose a larger validation "
        "share, or turn early stopping off (patience 0)."
    )


def recent_volatility(dollar_windows: np.ndarray, days: int = VOLATILITY_DAYS) -> np.ndarray:
    """Each window's recent daily volatility: the root mean square of its last `days` daily
    log changes (fewer when the window is shorter), at least MIN_VOLATILITY so that a flat
    window divides by no zero."""
    recent = np.asarray(dollar_windows, dtype=np.float64)[:, -(days + 1) :]
    changes = np.diff(np.log(recent), axis=1)
    return np.maximum(np.sqrt(np.mean(changes**2, axis=1)), MIN_VOLATILITY)
