"""The walk-forward backtest's folds: how many, where each one's training ends, its config."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from lstm_core.config import TrainConfig
from lstm_core.errors import DataError, NotEnoughDataError

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
    if config.extra_inputs:
        # Each fold forecasts days ahead, whose volume, range or market nobody knows yet.
        raise DataError(
            f"A backtest forecasts days ahead from prices alone, and these settings also see "
            f"{', '.join(config.extra_inputs)}, which nobody knows for days not yet traded; "
            "backtest settings that see the close only."
        )
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

    That run sees plan.end + lag prices and splits them by days, so its first test day is price
    origin + lag. The half day keeps floor(share x prices) from landing one below the intended
    count through rounding.
    """
    prices = plan.end + config.lag
    validation = (plan.validation_count + 0.5) / prices if plan.validation_count else 0.0
    return config.with_changes(
        train_fraction=(plan.origin + config.lag + 0.5) / prices, validation_fraction=validation
    )
